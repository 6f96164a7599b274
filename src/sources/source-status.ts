// A source's connection status, and the events its transitions emit (failure-announcement.ts
// says which): a failure shows in status, lastError and the error log at once, one error-log
// entry per failure state, never per retry; the webhook of a failure a retry may fix waits.
import { and, eq, sql } from "drizzle-orm";
import type { Context } from "../context.ts";
import type { Executor } from "../db/client.ts";
import { mailSources } from "../db/schema.ts";
import { recordEvent } from "../delivery/record-event.ts";
import { announcementFor, type AnnouncementEvent } from "./failure-announcement.ts";
import type { SourceStatus } from "./source-config.ts";
import { recordError } from "../db/error-log.ts";

export type SourceError = { code: string; message: string };

export type StatusChange =
  | { status: "connected" }
  | { status: "connecting" }
  /** `transient`: a retry may fix it (server unreachable, timeout), so source.failed waits for the delay. */
  | { status: "error"; error: SourceError; transient?: boolean }
  | { status: "needs_reauth"; error: SourceError };

/** Applies a status; returns true when it was a transition (or emitted an event). */
export async function setSourceStatus(ctx: Context, sourceId: string, change: StatusChange): Promise<boolean> {
  const now = ctx.clock.now();
  const delayMs = failedWebhookDelayMs(ctx);
  const result = await ctx.db.transaction(async (tx) => {
    const [before] = await tx
      .select({
        status: mailSources.status,
        lastError: mailSources.lastError,
        failingSince: mailSources.failingSince,
        failureAnnouncedAt: mailSources.failureAnnouncedAt,
      })
      .from(mailSources)
      .where(eq(mailSources.id, sourceId))
      .for("update");
    if (!before || before.status === "disabled") return { transitioned: false, announced: false };
    const error = "error" in change ? change.error : null;
    const announcement = announcementFor(before, change, now, delayMs);
    const failingSince = error ? (before.failingSince ?? now) : change.status === "connected" ? null : before.failingSince;
    await tx
      .update(mailSources)
      .set({
        status: change.status,
        failingSince,
        ...(error ? { lastError: error.message, lastErrorAt: now } : change.status === "connected" ? { lastError: null } : {}),
        ...(change.status === "connected" ? { failureAnnouncedAt: null } : announcement ? { failureAnnouncedAt: now } : {}),
        updatedAt: now,
      })
      .where(eq(mailSources.id, sourceId));
    // The same failure again (a retry) is already in the log: a new entry only for a new state.
    if (error && (before.status !== change.status || before.lastError !== error.message)) {
      await recordError(tx, { at: now, sourceId, kind: "connection_failed", message: error.message, details: { code: error.code, status: change.status } });
    }
    if (announcement) await recordAnnouncement(tx, sourceId, announcement, error, now);
    return { transitioned: before.status !== change.status || announcement !== null, announced: announcement !== null };
  });
  if (result.announced) ctx.database.wake("deliveries");
  return result.transitioned;
}

/** Writes the event of a change of streak (failure-announcement.ts), in the caller's transaction. */
export async function recordAnnouncement(tx: Executor, sourceId: string, type: AnnouncementEvent, error: SourceError | null, now: Date): Promise<void> {
  const [row] = await tx
    .select({ name: mailSources.name, kind: mailSources.kind, address: mailSources.address, status: mailSources.status, companyId: mailSources.companyId })
    .from(mailSources)
    .where(eq(mailSources.id, sourceId));
  if (!row) return;
  const source = { id: sourceId, name: row.name, kind: row.kind, address: row.address, status: row.status };
  const at = now.toISOString();
  await recordEvent(tx, { type, companyId: row.companyId, data: type === "source.recovered" || !error ? { source, at } : { source, error, at }, at: now });
}

export const failedWebhookDelayMs = (ctx: Context) => ctx.config.sourceFailedWebhookDelaySeconds * 1000;

/** Records that a sync ran (the source's "lastSyncAt"). */
export async function markSynced(ctx: Context, sourceId: string): Promise<void> {
  await ctx.db.update(mailSources).set({ lastSyncAt: ctx.clock.now() }).where(eq(mailSources.id, sourceId));
}

/** Takes a pending "Process Now" request for a source, if any (clears it). */
export async function takeSyncRequest(ctx: Context, sourceId: string): Promise<boolean> {
  const rows = await ctx.db
    .update(mailSources)
    .set({ syncRequestedAt: null })
    .where(and(eq(mailSources.id, sourceId), sql`${mailSources.syncRequestedAt} is not null`))
    .returning({ id: mailSources.id });
  return rows.length > 0;
}

export type { SourceStatus };
