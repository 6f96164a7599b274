// The dispatcher: claims due deliveries in leased batches, sends them with a global and a
// per-endpoint concurrency limit (one slow endpoint cannot starve the others), and records every
// attempt. Woken at once for new events; polls for retries that come due.
import type { Context } from "../context.ts";
import { claimDueDeliveries, nextDueAt, recordAttempts, releaseLeases, type AttemptResult, type ClaimedDelivery } from "../db/webhook-deliveries.ts";
import { disableEndpoint, markEndpointFailing } from "../db/webhook-endpoints.ts";
import { errorLog } from "../db/schema.ts";
import { nextAttempt, classifyResponse, shouldDisableForFailing } from "./retry-policy.ts";
import { signingKey, signWebhook } from "./sign-webhook.ts";
import { checkWebhookUrl } from "./url-safety.ts";
import { createSender, type SendResult, type Sender } from "./send-webhook.ts";
import { deliveryOutcome } from "../metrics/registry.ts";

export type Dispatcher = { stop(): Promise<void>; kick(): void; idle(): Promise<void> };

/** A webhook URL checked at send time: parsed, or refused with the reason. */
type UrlVerdict = { url: URL } | { problem: string };

type Outcome = { delivery: ClaimedDelivery; result: AttemptResult; verdict: "success" | "retry" | "disable_endpoint" };

const SAFETY_CACHE_MS = 30_000;
const FLUSH_EVERY_MS = 10;
const FLUSH_AT = 200;

export function startDispatcher(ctx: Context, opts: { pollMs?: number } = {}): Dispatcher {
  const cfg = ctx.config.webhook;
  const pollMs = opts.pollMs ?? 1000;
  const sender: Sender = createSender({
    timeoutMs: cfg.timeoutMs,
    maxSockets: cfg.perEndpointConcurrency,
    allowPrivateNetworks: cfg.allowPrivateNetworks,
    resolve: ctx.resolve,
  });
  const perEndpoint = new Map<string, number>();
  // Each secret is opened and decoded once: endpoint id → the sealed bytes and their signing key.
  const keys = new Map<string, { sealed: Buffer; key: Buffer }>();
  const urlChecks = new Map<string, { at: number } & UrlVerdict>();
  let inflight = 0;
  let running = true;
  let wakeLoop: (() => void) | null = null;
  const wake = () => wakeLoop?.();
  const unsubscribe = ctx.database.onWake("deliveries", wake);

  let pending: Outcome[] = [];
  let flushing: Promise<void> = Promise.resolve();
  let flushTimer: NodeJS.Timeout | null = null;

  const keyOf = (slot: string, sealed: Buffer) => {
    const cached = keys.get(slot);
    if (cached?.sealed.equals(sealed)) return cached.key;
    const key = signingKey(ctx.secrets.open(sealed));
    keys.set(slot, { sealed, key });
    return key;
  };

  // Checked again at send time, not only at creation: the URL may predate a stricter setting, and
  // this refuses early with the message the API gives. What stops DNS rebinding is the check of
  // each connection's address in the sender, since undici resolves the name again to connect.
  const checkUrl = async (url: string): Promise<UrlVerdict> => {
    const cached = urlChecks.get(url);
    if (cached && Date.now() - cached.at < SAFETY_CACHE_MS) return cached;
    const check = await checkWebhookUrl(url, { allowHttp: cfg.allowHttp, allowPrivateNetworks: cfg.allowPrivateNetworks, lookup: ctx.resolve });
    const entry = { at: Date.now(), ...(check.ok ? { url: new URL(url) } : { problem: check.message }) };
    urlChecks.set(url, entry);
    return entry;
  };

  const attempt = async (d: ClaimedDelivery): Promise<Outcome> => {
    const attemptedAt = ctx.clock.now();
    let sent: SendResult;
    const target = await checkUrl(d.url);
    if ("problem" in target) {
      sent = { statusCode: null, retryAfter: null, responseBody: null, error: `refused: ${target.problem}`, durationMs: 0 };
    } else {
      const body = d.body;
      const secrets = [keyOf(d.endpointId, d.secret)];
      if (d.previousSecret && d.previousSecretExpiresAt && d.previousSecretExpiresAt > attemptedAt) secrets.push(keyOf(`${d.endpointId} previous`, d.previousSecret));
      const headers = signWebhook({ id: d.eventId, timestamp: attemptedAt, body, secrets });
      sent = await sender.send(target.url, headers, body);
    }
    const verdict = classifyResponse(sent.statusCode, sent.error ?? undefined);
    const base = {
      deliveryId: d.id,
      attemptedAt,
      statusCode: sent.statusCode,
      durationMs: sent.durationMs,
      responseBody: sent.responseBody,
      error: sent.error,
    };
    if (verdict === "success") return { delivery: d, verdict, result: { ...base, status: "succeeded", nextAttemptAt: null } };
    // 410: the endpoint is disabled and this delivery waits, pending, for it to be re-enabled.
    if (verdict === "disable_endpoint") return { delivery: d, verdict, result: { ...base, status: "pending", nextAttemptAt: attemptedAt } };
    const next = nextAttempt({
      attempts: d.attempts + 1,
      scheduleSeconds: cfg.retryScheduleSeconds,
      now: ctx.clock.now(),
      retryAfter: sent.statusCode === 429 || sent.statusCode === 503 ? sent.retryAfter : null,
      random: Math.random,
    });
    return next.kind === "retry"
      ? { delivery: d, verdict, result: { ...base, status: "pending", nextAttemptAt: next.at } }
      : { delivery: d, verdict, result: { ...base, status: "exhausted", nextAttemptAt: null } };
  };

  const flush = async (batch: Outcome[]) => {
    if (batch.length === 0) return;
    const now = ctx.clock.now();
    const byEndpoint = new Map<string, Outcome[]>();
    for (const o of batch) {
      const list = byEndpoint.get(o.delivery.endpointId);
      if (list) list.push(o);
      else byEndpoint.set(o.delivery.endpointId, [o]);
    }
    const healthy = [...byEndpoint].filter(([, outcomes]) => outcomes.some((o) => o.verdict === "success")).map(([id]) => id);
    const exhausted = batch.filter((o) => o.result.status === "exhausted" && o.verdict !== "success");
    const results = batch.map((o) => o.result);
    let disabled = false;
    try {
      // Every endpoint answered at least once and nothing gave up: one statement, no transaction.
      if (healthy.length === byEndpoint.size && exhausted.length === 0 && !batch.some((o) => o.verdict === "disable_endpoint")) {
        await recordAttempts(ctx.db, results, healthy);
        return;
      }
      await ctx.db.transaction(async (tx) => {
        await recordAttempts(tx, results, healthy);
        for (const [endpointId, outcomes] of byEndpoint) {
          const gone = outcomes.find((o) => o.verdict === "disable_endpoint");
          if (gone) {
            await disableEndpoint(tx, endpointId, `The endpoint answered 410 Gone at ${now.toISOString()}; re-enable it when it accepts events again.`, now);
            disabled = true;
            continue;
          }
          if (healthy.includes(endpointId)) continue;
          const failingSince = await markEndpointFailing(tx, endpointId, now);
          if (shouldDisableForFailing(failingSince, now, cfg.disableAfterDays)) {
            await disableEndpoint(
              tx,
              endpointId,
              `Every delivery failed for ${cfg.disableAfterDays} days (since ${failingSince?.toISOString()}); fix the receiver, then re-enable the endpoint.`,
              now,
            );
            disabled = true;
          }
        }
        if (exhausted.length > 0) {
          await tx.insert(errorLog).values(
            exhausted.map((o) => ({
              at: now,
              kind: "delivery_failed",
              message: `Webhook delivery ${o.delivery.id} to ${o.delivery.url} gave up: ${o.result.error ?? `HTTP ${o.result.statusCode}`}`,
              details: { deliveryId: o.delivery.id, endpointId: o.delivery.endpointId, eventId: o.delivery.eventId },
            })),
          );
        }
      });
      if (disabled) ctx.database.wake("endpoints");
    } catch (err) {
      // The leases run out and these deliveries are sent again: at-least-once, never lost.
      if (!ctx.databaseOutage.report(err)) ctx.log.error({ err, count: batch.length }, "recording webhook attempts failed");
    }
  };

  const scheduleFlush = () => {
    const go = () => {
      flushTimer = null;
      const batch = pending;
      pending = [];
      flushing = flushing.then(() => flush(batch));
    };
    if (pending.length >= FLUSH_AT) {
      if (flushTimer) clearTimeout(flushTimer);
      go();
    } else if (!flushTimer) {
      flushTimer = setTimeout(go, FLUSH_EVERY_MS);
    }
  };

  // Claimed ahead: leased deliveries waiting for a free slot, so a finished send is followed at
  // once by the next one instead of by a claim's round trip. Claims in a busy process take ~9 ms
  // (bench:webhooks); without this, 26–28 of 64 slots were in flight on average, ~50 with it.
  // At most the concurrency waits here, and at most an endpoint's own limit per endpoint.
  const ready: ClaimedDelivery[] = [];
  const readyPerEndpoint = new Map<string, number>();
  const prefetch = cfg.concurrency;
  const endpointCap = 2 * cfg.perEndpointConcurrency;

  // An endpoint changed (URL, enabled, secret) or was deleted, here or in another instance: what
  // was claimed ahead carries the endpoint as its claim read it. It goes back, unleased, and the
  // next claim reads the endpoint anew (a disabled one's deliveries are not claimed). Sends
  // already on the wire finish as they started.
  let endpointChanges = 0;
  const giveBackReady = async () => {
    const unsent = ready.splice(0).map((d) => d.id);
    readyPerEndpoint.clear();
    if (unsent.length === 0) return;
    await releaseLeases(ctx.db, unsent).catch((err: unknown) => {
      if (!ctx.databaseOutage.report(err)) ctx.log.warn({ err, count: unsent.length }, "releasing unsent webhook deliveries failed; they are sent when their lease ends");
    });
  };
  const unsubscribeEndpoints = ctx.database.onWake("endpoints", () => {
    endpointChanges++;
    void giveBackReady().then(wake);
  });

  const startReady = () => {
    for (let i = 0; i < ready.length && inflight < cfg.concurrency; ) {
      const d = ready[i]!;
      if ((perEndpoint.get(d.endpointId) ?? 0) >= cfg.perEndpointConcurrency) {
        i++;
        continue;
      }
      ready.splice(i, 1);
      adjust(readyPerEndpoint, d.endpointId, -1);
      launch(d);
    }
  };

  const launch = (d: ClaimedDelivery) => {
    inflight++;
    adjust(perEndpoint, d.endpointId, 1);
    attempt(d)
      .catch((err: unknown): Outcome => {
        ctx.log.error({ err, deliveryId: d.id }, "webhook attempt crashed");
        const now = ctx.clock.now();
        return {
          delivery: d,
          verdict: "retry",
          result: { deliveryId: d.id, attemptedAt: now, statusCode: null, durationMs: 0, responseBody: null, error: String(err), status: "pending", nextAttemptAt: new Date(now.getTime() + 60_000) },
        };
      })
      .then((outcome) => {
        ctx.metrics.recordDeliveryAttempt(d.endpointId, deliveryOutcome(outcome.verdict, outcome.result.status), outcome.result.durationMs);
        pending.push(outcome);
        scheduleFlush();
        inflight--;
        adjust(perEndpoint, d.endpointId, -1);
        startReady();
        wake();
      });
  };

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      if (!running) return resolve();
      const timer = setTimeout(() => {
        wakeLoop = null;
        resolve();
      }, ms);
      wakeLoop = () => {
        clearTimeout(timer);
        wakeLoop = null;
        resolve();
      };
    });

  const loop = async () => {
    let failures = 0;
    while (running) {
      startReady();
      const room = cfg.concurrency + prefetch - inflight - ready.length;
      if (room <= 0) {
        await sleep(pollMs);
        continue;
      }
      try {
        const now = ctx.clock.now();
        const saturated = [...new Set([...perEndpoint.keys(), ...readyPerEndpoint.keys()])].filter(
          (id) => (perEndpoint.get(id) ?? 0) + (readyPerEndpoint.get(id) ?? 0) >= endpointCap,
        );
        const changesBefore = endpointChanges;
        const claimed = await claimDueDeliveries(ctx.db, {
          now,
          leaseUntil: new Date(now.getTime() + cfg.timeoutMs + 60_000),
          batch: Math.min(room, 500),
          perEndpoint: cfg.perEndpointConcurrency,
          saturated,
        });
        failures = 0;
        for (const d of claimed) {
          ready.push(d);
          adjust(readyPerEndpoint, d.endpointId, 1);
        }
        // The claim may have read an endpoint as it was before a change announced meanwhile.
        if (endpointChanges !== changesBefore) await giveBackReady();
        startReady();
        if (claimed.length === 0) {
          const due = inflight === 0 && ready.length === 0 ? await nextDueAt(ctx.db) : null;
          const untilDue = due ? due.getTime() - ctx.clock.now().getTime() : pollMs;
          await sleep(Math.max(5, Math.min(pollMs, untilDue)));
        }
      } catch (err) {
        failures++;
        if (!ctx.databaseOutage.report(err)) ctx.log.error({ err }, "claiming webhook deliveries failed");
        await sleep(Math.min(30_000, 250 * 2 ** Math.min(failures, 7)));
      }
    }
    // Stopping: what was claimed ahead and not started goes back at once, not when its lease ends.
    await giveBackReady();
  };
  const looping = loop();

  const idle = async () => {
    while (inflight > 0 || (running && ready.length > 0) || pending.length > 0 || flushTimer) {
      await new Promise((r) => setTimeout(r, 5));
    }
    await flushing;
  };

  return {
    kick: wake,
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

/** Adds `by` to a count in `counts`, dropping it at zero. */
function adjust(counts: Map<string, number>, key: string, by: number): void {
  const n = (counts.get(key) ?? 0) + by;
  if (n <= 0) counts.delete(key);
  else counts.set(key, n);
}
