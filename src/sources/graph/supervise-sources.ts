// The periodic pass over Graph sources, run by one instance at a time (the lease holder): for
// sources that collect continuously (continuous and scheduled mode), a catch-up after start and
// as the 5-minute safety net, and a subscription; for manual ones, no subscription; for all, a
// catch-up on "Process Now".
import { and, eq, isNotNull, ne } from "drizzle-orm";
import type { Context } from "../../context.ts";
import { mailSources, pushSubscriptions } from "../../db/schema.ts";
import { takeSyncRequest } from "../source-status.ts";
import { recordCreationFailure } from "../renew-subscriptions.ts";
import { createGraphSubscription, deleteGraphSubscription } from "./graph-subscription.ts";
import { hasGraphTokens } from "./graph-tokens.ts";
import { requestCatchUp, requestCatchUpUnlessAsked } from "./graph-work-queue.ts";
import { collectsContinuously, isSafetyNetDue } from "./safety-net.ts";
import { renewalRetryDelayMs } from "../renewal-due.ts";

export type SupervisorState = {
  /** Sources caught up since this instance took over: the rest get a catch-up "after start". */
  started: Set<string>;
  /** When this instance last asked for a safety-net catch-up, per source. */
  safetyNetAskedAt: Map<string, number>;
  /** Failed subscription creations, per source, so a broken PUBLIC_URL is not hammered. */
  createFailures: Map<string, { count: number; nextTryAt: number }>;
  safetyNetIntervalMs?: number;
  /** When this instance started supervising: a source caught up since needs no catch-up "after start". */
  startedAt: number;
};

export const newSupervisorState = (safetyNetIntervalMs?: number, startedAt = Date.now()): SupervisorState => ({
  startedAt,
  started: new Set(),
  safetyNetAskedAt: new Map(),
  createFailures: new Map(),
  safetyNetIntervalMs,
});

/** Is a "Process Now" waiting on a Graph source? (A cheap look, made when the sync channel wakes.) */
export async function hasProcessNowRequest(ctx: Context): Promise<boolean> {
  const rows = await ctx.db
    .select({ id: mailSources.id })
    .from(mailSources)
    .where(and(eq(mailSources.kind, "graph"), isNotNull(mailSources.syncRequestedAt)))
    .limit(1);
  return rows.length > 0;
}

/**
 * `catchUpsRequested` is called once every due catch-up is asked for, before the subscriptions
 * (which may wait on Microsoft's validation of our URL).
 */
export async function superviseGraphSources(ctx: Context, state: SupervisorState, catchUpsRequested?: () => void): Promise<void> {
  const sources = await ctx.db
    .select({
      id: mailSources.id,
      status: mailSources.status,
      schedule: mailSources.schedule,
      secrets: mailSources.secrets,
      lastSyncAt: mailSources.lastSyncAt,
      syncRequestedAt: mailSources.syncRequestedAt,
    })
    .from(mailSources)
    .where(and(eq(mailSources.kind, "graph"), ne(mailSources.status, "disabled")));
  const readable: typeof sources = [];
  for (const source of sources) {
    if (source.status === "needs_reauth" || !hasGraphTokens(ctx, source.secrets)) {
      // Nothing can be read until it is authorized: a Process Now is answered by the source's status.
      if (source.syncRequestedAt && (await takeSyncRequest(ctx, source.id))) {
        ctx.log.info({ sourceId: source.id }, "Process Now on a Microsoft 365 source that needs authorization: nothing to read");
      }
      continue;
    }
    readable.push(source);
    await requestDueCatchUp(ctx, state, source);
  }
  catchUpsRequested?.();
  const subscriptions = await ctx.db.select().from(pushSubscriptions).where(eq(pushSubscriptions.provider, "graph"));
  for (const source of readable) {
    const subscription = subscriptions.find((s) => s.sourceId === source.id);
    if (collectsContinuously(source.schedule) && !subscription) await createMissingSubscription(ctx, state, source.id);
    if (!collectsContinuously(source.schedule) && subscription) await deleteGraphSubscription(ctx, subscription);
  }
}

async function requestDueCatchUp(
  ctx: Context,
  state: SupervisorState,
  source: { id: string; schedule: unknown; lastSyncAt: Date | null },
): Promise<void> {
  const now = ctx.clock.now();
  const asked = state.safetyNetAskedAt.get(source.id) ?? 0;
  const lastSyncAt = new Date(Math.max(source.lastSyncAt?.getTime() ?? 0, asked));
  // A source authorized (or caught up by any instance) since this one started was caught up then:
  // asking again would repeat a thousand catch-ups at once when a thousand sources are added.
  const caughtUpSinceStart = source.lastSyncAt !== null && source.lastSyncAt.getTime() >= state.startedAt;
  const reason = !state.started.has(source.id) && collectsContinuously(source.schedule) && !caughtUpSinceStart
    ? "start"
    : (await takeSyncRequest(ctx, source.id))
      ? "process_now"
      : isSafetyNetDue({ schedule: source.schedule, lastSyncAt, now, intervalMs: state.safetyNetIntervalMs })
        ? "safety_net"
        : null;
  state.started.add(source.id);
  if (!reason) return;
  state.safetyNetAskedAt.set(source.id, now.getTime());
  // "start" also consumes a pending Process Now: the catch-up it asks for does the same, and runs
  // again after one already running. Without one, a catch-up already asked for (an authorization's)
  // covers the start as it is.
  if (reason === "start" && !(await takeSyncRequest(ctx, source.id))) await requestCatchUpUnlessAsked(ctx.db, source.id, reason, now);
  else await requestCatchUp(ctx.db, source.id, reason, now);
  ctx.database.wake("graph_sync");
}

async function createMissingSubscription(ctx: Context, state: SupervisorState, sourceId: string): Promise<void> {
  const now = ctx.clock.now().getTime();
  const failed = state.createFailures.get(sourceId);
  if (failed && failed.nextTryAt > now) return;
  const result = await createGraphSubscription(ctx, sourceId);
  if (result.ok) {
    state.createFailures.delete(sourceId);
    return;
  }
  const count = (failed?.count ?? 0) + 1;
  state.createFailures.set(sourceId, { count, nextTryAt: now + renewalRetryDelayMs(count) });
  ctx.log.warn({ sourceId, error: result.error }, "creating the Graph subscription failed");
  await recordCreationFailure(ctx, sourceId, "graph", result.error);
}
