// Renewing push subscriptions of every provider (Gmail watches, Graph subscriptions), by the
// scheduler ahead of expiry and on demand (POST /api/subscriptions/renew). The outcome is
// recorded the same way for both: a success clears the row's error; the first failure of a
// streak emits `subscription.renewal_failed`, and every failure shows on the source and in the error log.
import { and, asc, eq, like, notInArray } from "drizzle-orm";
import type { Context } from "../context.ts";
import { mailSources, pushSubscriptions } from "../db/schema.ts";
import type { Executor } from "../db/client.ts";
import { recordEvent } from "../delivery/record-event.ts";
import { renewGmailWatch, type RenewResult, type SubscriptionRow } from "./gmail/renew.ts";
import { renewGraphSubscription } from "./graph/graph-subscription.ts";
import { isRenewalDue, renewalDueAt, renewalRetryDelayMs } from "./renewal-due.ts";
import { recordError } from "../db/error-log.ts";

export type RenewOutcome = { id: string; ok: boolean; expiresAt?: string; error?: { code: string; message: string } };

/** The prefix of a renewal problem in a source's lastError, so a later success clears only its own. */
const SOURCE_ERROR_PREFIX = "Push subscription: ";

export async function listSubscriptions(executor: Executor, filter: { sourceId?: string } = {}): Promise<SubscriptionRow[]> {
  return executor
    .select()
    .from(pushSubscriptions)
    .where(filter.sourceId ? eq(pushSubscriptions.sourceId, filter.sourceId) : undefined)
    .orderBy(asc(pushSubscriptions.createdAt), asc(pushSubscriptions.id));
}

/** Renews one subscription now, whatever its expiry, and records the outcome. */
export async function renewSubscription(ctx: Context, row: SubscriptionRow): Promise<RenewOutcome> {
  let result: RenewResult;
  try {
    result = await renewWithProvider(ctx, row);
  } catch (err) {
    if (!ctx.databaseOutage.report(err)) ctx.log.error({ err, subscriptionId: row.id }, "subscription renewal failed unexpectedly");
    result = { ok: false, error: { code: "renewal_failed", message: err instanceof Error ? err.message : String(err) } };
  }
  await recordRenewal(ctx, row, result);
  return result.ok
    ? { id: row.id, ok: true, expiresAt: result.expiresAt.toISOString() }
    : { id: row.id, ok: false, error: result.error };
}

function renewWithProvider(ctx: Context, row: SubscriptionRow): Promise<RenewResult> {
  switch (row.provider) {
    case "graph":
      return renewGraphSubscription(ctx, row);
    case "gmail":
      return renewGmailWatch(ctx, row);
    default:
      return Promise.resolve({ ok: false, error: { code: "unknown_provider", message: `No renewal is known for provider "${row.provider}".` } });
  }
}

export async function recordRenewal(ctx: Context, row: SubscriptionRow, result: RenewResult): Promise<void> {
  const now = ctx.clock.now();
  if (result.ok) {
    await ctx.db.transaction(async (tx) => {
      await tx
        .update(pushSubscriptions)
        .set({ status: "active", lastError: null, expiresAt: result.expiresAt, lastRenewedAt: now })
        .where(eq(pushSubscriptions.id, row.id));
      await tx
        .update(mailSources)
        .set({ lastError: null, lastErrorAt: null })
        .where(and(eq(mailSources.id, row.sourceId), like(mailSources.lastError, `${SOURCE_ERROR_PREFIX}%`)));
    });
    return;
  }
  const emitted = await ctx.db.transaction(async (tx) => {
    const [current] = await tx.select().from(pushSubscriptions).where(eq(pushSubscriptions.id, row.id)).for("update");
    if (!current) return false;
    await tx
      .update(pushSubscriptions)
      .set({ status: current.status === "removed" ? "removed" : "failing", lastError: result.error.message })
      .where(eq(pushSubscriptions.id, row.id));
    await showOnSource(tx, row.sourceId, result.error, now, { subscriptionId: row.id, provider: row.provider, externalId: current.externalId });
    if (current.status === "failing") return false;
    const [source] = await tx.select({ companyId: mailSources.companyId }).from(mailSources).where(eq(mailSources.id, row.sourceId));
    await recordEvent(tx, {
      type: "subscription.renewal_failed",
      companyId: source?.companyId ?? null,
      data: {
        subscription: {
          id: current.id,
          sourceId: current.sourceId,
          provider: current.provider,
          externalId: current.externalId,
          expiresAt: current.expiresAt?.toISOString() ?? null,
        },
        error: result.error,
        at: now.toISOString(),
      },
      at: now,
    });
    return true;
  });
  if (emitted) ctx.database.wake("deliveries");
}

/** A subscription that cannot even be created has no row to carry the failure: it shows on the source. */
export async function recordCreationFailure(ctx: Context, sourceId: string, provider: string, error: { code: string; message: string }) {
  await ctx.db.transaction((tx) => showOnSource(tx, sourceId, error, ctx.clock.now(), { provider }));
}

async function showOnSource(
  executor: Executor,
  sourceId: string,
  error: { code: string; message: string },
  now: Date,
  details: Record<string, unknown>,
): Promise<void> {
  await executor
    .update(mailSources)
    .set({ lastError: `${SOURCE_ERROR_PREFIX}${error.message}`, lastErrorAt: now })
    .where(eq(mailSources.id, sourceId));
  await recordError(executor, {
    at: now,
    sourceId,
    kind: "renewal_failed",
    message: error.message,
    details: { ...details, code: error.code },
  });
}

/**
 * Renewals one pass makes at most, one at a time: working ones most overdue first, the rest in the next
 * pass 30 s later. It keeps a pass short and the pace far below Gmail's and Graph's rate limits.
 */
export const RENEWALS_PER_PASS = 100;

/**
 * The scheduler's pass: renews what is due (or failing, or removed), waiting after failures.
 * `backoff` remembers failures between passes (in memory: a restart simply tries again).
 */
export async function renewDueSubscriptions(ctx: Context, backoff: RenewalBackoff): Promise<RenewOutcome[]> {
  const now = ctx.clock.now();
  const rows = await ctx.db
    .select({ sub: pushSubscriptions })
    .from(pushSubscriptions)
    .innerJoin(mailSources, eq(mailSources.id, pushSubscriptions.sourceId))
    .where(notInArray(mailSources.status, ["disabled", "needs_reauth"]));
  const due = rows
    .map((r) => r.sub)
    .filter((sub) => (sub.status !== "active" || isRenewalDue(sub, now)) && backoff.mayTry(sub.id, now))
    // A working subscription near its expiry before one already failing, which has its own backoff.
    .sort((a, b) => Number(a.status !== "active") - Number(b.status !== "active") || renewalDueAt(a).getTime() - renewalDueAt(b).getTime())
    .slice(0, RENEWALS_PER_PASS);
  const outcomes: RenewOutcome[] = [];
  for (const sub of due) {
    const outcome = await renewSubscription(ctx, sub);
    backoff.record(sub.id, outcome.ok, now);
    outcomes.push(outcome);
  }
  return outcomes;
}

export type RenewalBackoff = { mayTry(id: string, now: Date): boolean; record(id: string, ok: boolean, now: Date): void };

export function createRenewalBackoff(): RenewalBackoff {
  const failures = new Map<string, { count: number; nextTryAt: number }>();
  return {
    mayTry: (id, now) => (failures.get(id)?.nextTryAt ?? 0) <= now.getTime(),
    record: (id, ok, now) => {
      if (ok) return void failures.delete(id);
      const count = (failures.get(id)?.count ?? 0) + 1;
      failures.set(id, { count, nextTryAt: now.getTime() + renewalRetryDelayMs(count) });
    },
  };
}
