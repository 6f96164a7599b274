// A source's connection status, and the events its transitions emit: `source.failed` on the way
// into error, `source.needs_reauth` into needs_reauth, `source.recovered` back to connected —
// once per transition, never per retry.
import { and, eq, ne, sql } from "drizzle-orm";
import type { Context } from "../context.ts";
import { errorLog, mailSources } from "../db/schema.ts";
import { recordEvent } from "../delivery/record-event.ts";
import type { SourceStatus } from "./source-config.ts";

export type StatusChange =
  | { status: "connected" }
  | { status: "connecting" }
  | { status: "error"; error: { code: string; message: string } }
  | { status: "needs_reauth"; error: { code: string; message: string } };

/** Applies a status; returns true when it was a transition (and so emitted its event). */
export async function setSourceStatus(ctx: Context, sourceId: string, change: StatusChange): Promise<boolean> {
  const now = ctx.clock.now();
  const transitioned = await ctx.db.transaction(async (tx) => {
    const [before] = await tx
      .select({
        status: mailSources.status,
        failingSince: mailSources.failingSince,
        name: mailSources.name,
        kind: mailSources.kind,
        address: mailSources.address,
        companyId: mailSources.companyId,
      })
      .from(mailSources)
      .where(eq(mailSources.id, sourceId))
      .for("update");
    if (!before) return false;
    const error = "error" in change ? change.error : null;
    await tx
      .update(mailSources)
      .set({
        status: change.status,
        ...(error
          ? { lastError: error.message, lastErrorAt: now, failingSince: before.failingSince ?? now }
          : change.status === "connected"
            ? { lastError: null, failingSince: null }
            : {}),
        updatedAt: now,
      })
      .where(and(eq(mailSources.id, sourceId), ne(mailSources.status, "disabled")));
    if (error) {
      await tx.insert(errorLog).values({ at: now, sourceId, kind: "connection_failed", message: error.message, details: { code: error.code, status: change.status } });
    }
    if (before.status === change.status || before.status === "disabled") return false;
    const source = { id: sourceId, name: before.name, kind: before.kind, address: before.address, status: change.status };
    const type =
      change.status === "error"
        ? "source.failed"
        : change.status === "needs_reauth"
          ? "source.needs_reauth"
          : // Failing since: also after an edit put it back to connecting on the way (a fixed password).
            change.status === "connected" && (before.status === "error" || before.status === "needs_reauth" || before.failingSince !== null)
            ? "source.recovered"
            : null;
    if (!type) return true;
    await recordEvent(tx, {
      type,
      companyId: before.companyId,
      data: error ? { source, error, at: now.toISOString() } : { source, at: now.toISOString() },
      at: now,
    });
    return true;
  });
  if (transitioned) ctx.database.wake("deliveries");
  return transitioned;
}

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
