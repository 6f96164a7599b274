// The periodic pass over Gmail sources: a sync for every mailbox at start (mail that arrived while
// mailgate was down), the 5-minute safety-net sync in continuous mode (mail arrives even when
// Pub/Sub is silent), a watch for a source that has a topic but no watch yet, the pull
// subscribers wanted, and users.stop for sources deleted since the last pass.
import { eq } from "drizzle-orm";
import type { Context } from "../../context.ts";
import { mailSources, pushSubscriptions } from "../../db/schema.ts";
import type { SourceRecord } from "../../db/sources.ts";
import { recordCreationFailure } from "../renew-subscriptions.ts";
import type { Schedule } from "../source-config.ts";
import { openGmailSession } from "./gmail-session.ts";
import { openGmailSource } from "./gmail-source.ts";
import { startPullSubscriber, type PullSubscriber } from "./pull-subscriber.ts";
import { requestGmailSync } from "./sync-requests.ts";
import { saveWatch, stopWatch, watchInbox } from "./watch.ts";
import { isSafetyNetDue, watchRetryDelayMs } from "./supervision-timing.ts";

export type SupervisorState = {
  safetyNetIntervalMs: number;
  /** When this instance started supervising (ms). */
  startedAt: number;
  /** Sources synced since this instance started. */
  started: Set<string>;
  /** Last row seen of each Gmail source, to stop the watch of one that is deleted. */
  known: Map<string, SourceRecord>;
  subscribers: Map<string, PullSubscriber>;
  watchFailures: Map<string, { count: number; nextTryAt: number }>;
};

export const newSupervisorState = (safetyNetIntervalMs: number, startedAt = Date.now()): SupervisorState => ({
  safetyNetIntervalMs,
  startedAt,
  started: new Set(),
  known: new Map(),
  subscribers: new Map(),
  watchFailures: new Map(),
});

export async function superviseGmailSources(ctx: Context, state: SupervisorState): Promise<void> {
  const rows = await ctx.db.select().from(mailSources).where(eq(mailSources.kind, "gmail"));
  const watched = new Set(
    (await ctx.db.select({ sourceId: pushSubscriptions.sourceId }).from(pushSubscriptions).where(eq(pushSubscriptions.provider, "gmail"))).map((r) => r.sourceId),
  );
  const wantedSubscriptions = new Set<string>();
  let requested = false;
  for (const row of rows) {
    state.known.set(row.id, row);
    if (!isLive(ctx, row)) continue;
    const { config } = openGmailSource(ctx, row);
    if (config.delivery === "pull" && config.subscriptionName) wantedSubscriptions.add(config.subscriptionName);
    const now = ctx.clock.now();
    // Synced since this instance started (just authorized, or pushed to): no start-up sync needed,
    // and a thousand sources added at once do not all sync again on the next pass.
    if (row.lastSyncAt !== null && row.lastSyncAt.getTime() >= state.startedAt) state.started.add(row.id);
    const firstPass = !state.started.has(row.id);
    const continuous = (row.schedule as Schedule).mode === "continuous";
    if (firstPass || (continuous && isSafetyNetDue(row.lastSyncAt, now, state.safetyNetIntervalMs))) {
      await requestGmailSync(ctx.db, { sourceId: row.id, force: true, now });
      state.started.add(row.id);
      requested = true;
    }
    if (config.topicName && !watched.has(row.id)) await createMissingWatch(ctx, state, row, config.topicName);
  }
  if (requested) ctx.database.wake("gmail_sync");
  await stopDeletedWatches(ctx, state, new Set(rows.map((r) => r.id)));
  await reconcileSubscribers(ctx, state, wantedSubscriptions);
}

function isLive(ctx: Context, row: SourceRecord): boolean {
  if (row.status === "disabled" || row.status === "needs_reauth") return false;
  try {
    const tokens = openGmailSource(ctx, row).secrets.tokens;
    return Boolean(tokens?.refresh_token || tokens?.access_token);
  } catch {
    return false;
  }
}

async function createMissingWatch(ctx: Context, state: SupervisorState, row: SourceRecord, topicName: string): Promise<void> {
  const now = ctx.clock.now().getTime();
  const failed = state.watchFailures.get(row.id);
  if (failed && failed.nextTryAt > now) return;
  const watch = await watchInbox(openGmailSession(ctx, row), topicName);
  if (watch.ok) {
    state.watchFailures.delete(row.id);
    await saveWatch(ctx.db, { sourceId: row.id, address: row.address, topicName, expiresAt: watch.expiresAt, now: ctx.clock.now() });
    return;
  }
  const count = (failed?.count ?? 0) + 1;
  state.watchFailures.set(row.id, { count, nextTryAt: now + watchRetryDelayMs(count) });
  if (count === 1) await recordCreationFailure(ctx, row.id, "gmail", watch.error);
}

async function stopDeletedWatches(ctx: Context, state: SupervisorState, present: Set<string>): Promise<void> {
  for (const [id, row] of state.known) {
    if (present.has(id)) continue;
    state.known.delete(id);
    state.started.delete(id);
    const { config, secrets } = openGmailSource(ctx, row);
    if (!config.topicName || !(secrets.tokens?.refresh_token || secrets.tokens?.access_token)) continue;
    // The row is gone, so is the token store: a refresh during this call is simply not persisted.
    if (await stopWatch(ctx, openGmailSession(ctx, row))) {
      ctx.log.info({ sourceId: id, address: row.address }, "Gmail source deleted: its watch was stopped");
    }
  }
}

async function reconcileSubscribers(ctx: Context, state: SupervisorState, wanted: Set<string>): Promise<void> {
  for (const [name, subscriber] of state.subscribers) {
    if (wanted.has(name) && subscriber.isOpen()) continue;
    state.subscribers.delete(name);
    await subscriber.close();
  }
  for (const name of wanted) {
    if (!state.subscribers.has(name)) state.subscribers.set(name, await startPullSubscriber(ctx, name));
  }
}

export async function closeSubscribers(state: SupervisorState): Promise<void> {
  await Promise.all([...state.subscribers.values()].map((s) => s.close()));
  state.subscribers.clear();
}
