// The dispatcher: claims due deliveries in leased batches into its slots (delivery-slots.ts),
// makes each attempt (attempt.ts) and hands the outcome to the recorder (outcome-recorder.ts).
// Woken at once for new events; polls for retries that come due.
import type { Context } from "../context.ts";
import { claimDueDeliveries, nextDueAt, releaseLeases, type ClaimedDelivery } from "../db/webhook-deliveries.ts";
import { deliveryOutcome } from "../metrics/registry.ts";
import { createAttempt, crashedOutcome, type Attempt } from "./attempt.ts";
import { createDeliverySlots, type DeliverySlots } from "./delivery-slots.ts";
import { createOutcomeRecorder, type OutcomeRecorder } from "./outcome-recorder.ts";
import { createSender } from "./send-webhook.ts";
import { exponentialMs } from "../scheduler/backoff.ts";
import { createWakeableSleep, type WakeableSleep } from "../scheduler/wakeable-sleep.ts";

export type Dispatcher = { stop(): Promise<void>; idle(): Promise<void> };

/** A claimed delivery whose outcome is not recorded by its request's timeout plus this (the process died) is claimed again. */
const LEASE_MARGIN_MS = 60_000;
const MOST_CLAIMED_AT_ONCE = 500;

/** What the dispatcher's steps share; `running` and `endpointChanges` change as it runs. */
type DispatcherState = {
  readonly ctx: Context;
  readonly pollMs: number;
  readonly attempt: Attempt;
  readonly recorder: OutcomeRecorder;
  readonly slots: DeliverySlots;
  readonly wakeup: WakeableSleep;
  running: boolean;
  /** Counts the "endpoints" wake-ups, so a claim can tell whether one came while it ran. */
  endpointChanges: number;
};

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
  const s: DispatcherState = { ctx, pollMs, attempt, recorder, slots, wakeup: createWakeableSleep(), running: true, endpointChanges: 0 };
  const wake = () => s.wakeup.wake();
  const unsubscribe = ctx.database.onWake("deliveries", wake);

  // An endpoint changed (URL, enabled, secret) or was deleted, here or in another instance: what
  // was claimed ahead carries the endpoint as its claim read it. It goes back, unleased, and the
  // next claim reads the endpoint anew (a disabled one's deliveries are not claimed). Sends
  // already on the wire finish as they started.
  const unsubscribeEndpoints = ctx.database.onWake("endpoints", () => {
    s.endpointChanges++;
    void giveBackReady(s).then(wake);
  });

  const looping = claimLoop(s);

  return {
    idle: () => idle(s),
    stop: async () => {
      s.running = false;
      unsubscribe();
      unsubscribeEndpoints();
      wake();
      await looping;
      await idle(s);
      await sender.close();
    },
  };
}

/** Claims due deliveries into the slots while there is room, until stopped. */
async function claimLoop(s: DispatcherState): Promise<void> {
  const { ctx, slots, pollMs } = s;
  const cfg = ctx.config.webhook;
  let failures = 0;
  while (s.running) {
    startReady(s);
    const room = slots.room();
    if (room <= 0) {
      await sleep(s, pollMs);
      continue;
    }
    try {
      const now = ctx.clock.now();
      const changesBefore = s.endpointChanges;
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
      if (s.endpointChanges !== changesBefore) await giveBackReady(s);
      startReady(s);
      if (claimed.length === 0) {
        const due = slots.inFlight() === 0 && slots.waiting() === 0 ? await nextDueAt(ctx.db) : null;
        const untilDue = due ? due.getTime() - ctx.clock.now().getTime() : pollMs;
        await sleep(s, Math.max(5, Math.min(pollMs, untilDue)));
      }
    } catch (err) {
      failures++;
      if (!ctx.databaseOutage.report(err)) ctx.log.error({ err }, "claiming webhook deliveries failed");
      await sleep(s, exponentialMs(failures, 500, 30_000));
    }
  }
  // Stopping: what was claimed ahead and not started goes back at once, not when its lease ends.
  await giveBackReady(s);
}

function sleep(s: DispatcherState, ms: number): Promise<void> {
  return s.running ? s.wakeup.sleep(ms) : Promise.resolve();
}

function startReady(s: DispatcherState): void {
  s.slots.takeStartable().forEach((d) => launch(s, d));
}

/** Makes the attempt and hands its outcome to the recorder; its slot then goes to the next delivery. */
function launch(s: DispatcherState, d: ClaimedDelivery): void {
  const { ctx } = s;
  s.attempt(d)
    .catch((err: unknown) => {
      ctx.log.error({ err, deliveryId: d.id }, "webhook attempt crashed");
      return crashedOutcome(d, err, ctx.clock.now());
    })
    .then((outcome) => {
      ctx.metrics.recordDeliveryAttempt(d.endpointId, deliveryOutcome(outcome.verdict, outcome.result.status), outcome.result.durationMs);
      s.recorder.add(outcome);
      s.slots.finished(d);
      startReady(s);
      s.wakeup.wake();
    });
}

/** Releases the leases of what was claimed ahead and not started. */
async function giveBackReady(s: DispatcherState): Promise<void> {
  const { ctx } = s;
  const unsent = s.slots.takeAllReady().map((d) => d.id);
  if (unsent.length === 0) return;
  await releaseLeases(ctx.db, unsent).catch((err: unknown) => {
    if (!ctx.databaseOutage.report(err)) ctx.log.warn({ err, count: unsent.length }, "releasing unsent webhook deliveries failed; they are sent when their lease ends");
  });
}

async function idle(s: DispatcherState): Promise<void> {
  while (s.slots.inFlight() > 0 || (s.running && s.slots.waiting() > 0)) await new Promise((r) => setTimeout(r, 5));
  await s.recorder.idle();
}
