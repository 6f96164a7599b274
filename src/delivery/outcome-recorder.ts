// Writes what attempts came to, a few milliseconds' worth at a time: the attempt rows, the
// deliveries' new state, the endpoints' health (failing, disabled) and the error log for
// deliveries that gave up.
import type { Context } from "../context.ts";
import { recordAttempts } from "../db/webhook-deliveries.ts";
import { disableEndpoint, markEndpointFailing } from "../db/webhook-endpoints.ts";

import { shouldDisableForFailing } from "./retry-policy.ts";
import type { Outcome } from "./attempt.ts";
import { recordError } from "../db/error-log.ts";

export type OutcomeRecorder = {
  add(outcome: Outcome): void;
  /** Resolves once every outcome added so far is written (or its write failed). */
  idle(): Promise<void>;
};

const FLUSH_EVERY_MS = 10;
const FLUSH_AT = 200;

export function createOutcomeRecorder(ctx: Context): OutcomeRecorder {
  let pending: Outcome[] = [];
  let flushing: Promise<void> = Promise.resolve();
  let flushTimer: NodeJS.Timeout | null = null;

  const flushNow = () => {
    flushTimer = null;
    const batch = pending;
    pending = [];
    flushing = flushing.then(() => record(ctx, batch));
  };

  return {
    add(outcome) {
      pending.push(outcome);
      if (pending.length >= FLUSH_AT) {
        if (flushTimer) clearTimeout(flushTimer);
        flushNow();
      } else if (!flushTimer) {
        flushTimer = setTimeout(flushNow, FLUSH_EVERY_MS);
      }
    },
    async idle() {
      while (pending.length > 0 || flushTimer) await new Promise((r) => setTimeout(r, 5));
      await flushing;
    },
  };
}

async function record(ctx: Context, batch: Outcome[]): Promise<void> {
  if (batch.length === 0) return;
  const cfg = ctx.config.webhook;
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
        await recordError(tx, 
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
}
