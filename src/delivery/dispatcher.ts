// The dispatcher: claims due deliveries in leased batches into its slots (delivery-slots.ts),
// makes each attempt (attempt.ts) and hands the outcome to the recorder (outcome-recorder.ts).
// Woken at once for new events; polls for retries that come due.
import type { Context } from "../context.ts";
import { claimDueDeliveries, nextDueAt, releaseLeases, type ClaimedDelivery } from "../db/webhook-deliveries.ts";
import { deliveryOutcome } from "../metrics/registry.ts";
import { createAttempt, crashedOutcome } from "./attempt.ts";
import { createDeliverySlots } from "./delivery-slots.ts";
import { createOutcomeRecorder } from "./outcome-recorder.ts";
import { createSender } from "./send-webhook.ts";
import { exponentialMs } from "../scheduler/backoff.ts";
import { createWakeableSleep } from "../scheduler/wakeable-sleep.ts";

export type Dispatcher = { stop(): Promise<void>; idle(): Promise<void> };

/** A claimed delivery whose outcome is not recorded by its request's timeout plus this (the process died) is claimed again. */
const LEASE_MARGIN_MS = 60_000;
const MOST_CLAIMED_AT_ONCE = 500;

export function startDispatcher(ctx: Context, opts: { pollMs?: number } = {}): Dispatcher {
  const cfg = ctx.config.webhook;
  const pollMs = opts.pollMs ?? 1000;
  const sender = createSender({
    timeoutMs: cfg.timeoutMs,
    maxSockets: cfg.perEndpointConcurrency,
    allowPrivateNetworks: cfg.allowPrivateNetworks,
    resolve: ctx.resolve,
  });
  const attempt = createAttempt(ctx, sender);
  const recorder = createOutcomeRecorder(ctx);
  const slots = createDeliverySlots(cfg);
  let running = true;
  const wakeup = createWakeableSleep();
  const wake = () => wakeup.wake();
  const unsubscribe = ctx.database.onWake("deliveries", wake);

  const launch = (d: ClaimedDelivery) => {
    attempt(d)
      .catch((err: unknown) => {
        ctx.log.error({ err, deliveryId: d.id }, "webhook attempt crashed");
        return crashedOutcome(d, err, ctx.clock.now());
      })
      .then((outcome) => {
        ctx.metrics.recordDeliveryAttempt(d.endpointId, deliveryOutcome(outcome.verdict, outcome.result.status), outcome.result.durationMs);
        recorder.add(outcome);
        slots.finished(d);
        startReady();
        wake();
      });
  };
  const startReady = () => slots.takeStartable().forEach(launch);

  // An endpoint changed (URL, enabled, secret) or was deleted, here or in another instance: what
  // was claimed ahead carries the endpoint as its claim read it. It goes back, unleased, and the
  // next claim reads the endpoint anew (a disabled one's deliveries are not claimed). Sends
  // already on the wire finish as they started.
  let endpointChanges = 0;
  const giveBackReady = async () => {
    const unsent = slots.takeAllReady().map((d) => d.id);
    if (unsent.length === 0) return;
    await releaseLeases(ctx.db, unsent).catch((err: unknown) => {
      if (!ctx.databaseOutage.report(err)) ctx.log.warn({ err, count: unsent.length }, "releasing unsent webhook deliveries failed; they are sent when their lease ends");
    });
  };
  const unsubscribeEndpoints = ctx.database.onWake("endpoints", () => {
    endpointChanges++;
    void giveBackReady().then(wake);
  });

  const sleep = (ms: number) => (running ? wakeup.sleep(ms) : Promise.resolve());

  const loop = async () => {
    let failures = 0;
    while (running) {
      startReady();
      const room = slots.room();
      if (room <= 0) {
        await sleep(pollMs);
        continue;
      }
      try {
        const now = ctx.clock.now();
        const changesBefore = endpointChanges;
        const claimed = await claimDueDeliveries(ctx.db, {
          now,
          leaseUntil: new Date(now.getTime() + cfg.timeoutMs + LEASE_MARGIN_MS),
          batch: Math.min(room, MOST_CLAIMED_AT_ONCE),
          perEndpoint: cfg.perEndpointConcurrency,
          saturated: slots.saturated(),
        });
        failures = 0;
        slots.addClaimed(claimed);
        // The claim may have read an endpoint as it was before a change announced meanwhile.
        if (endpointChanges !== changesBefore) await giveBackReady();
        startReady();
        if (claimed.length === 0) {
          const due = slots.inFlight() === 0 && slots.waiting() === 0 ? await nextDueAt(ctx.db) : null;
          const untilDue = due ? due.getTime() - ctx.clock.now().getTime() : pollMs;
          await sleep(Math.max(5, Math.min(pollMs, untilDue)));
        }
      } catch (err) {
        failures++;
        if (!ctx.databaseOutage.report(err)) ctx.log.error({ err }, "claiming webhook deliveries failed");
        await sleep(exponentialMs(failures, 500, 30_000));
      }
    }
    // Stopping: what was claimed ahead and not started goes back at once, not when its lease ends.
    await giveBackReady();
  };
  const looping = loop();

  const idle = async () => {
    while (slots.inFlight() > 0 || (running && slots.waiting() > 0)) await new Promise((r) => setTimeout(r, 5));
    await recorder.idle();
  };

  return {
    idle,
    stop: async () => {
      running = false;
      unsubscribe();
      unsubscribeEndpoints();
      wake();
      await looping;
      await idle();
      await sender.close();
    },
  };
}
