// The IMAP cursor and sync bookkeeping in mail_sources. The supervisor that owns a source is the
// only writer of its cursor.
import { and, eq } from "drizzle-orm";
import type { Executor } from "../../db/client.ts";
import { mailSources } from "../../db/schema.ts";
import type { ImapCursor } from "../source-config.ts";

export async function loadCursor(executor: Executor, sourceId: string): Promise<ImapCursor | null> {
  const [row] = await executor.select({ cursor: mailSources.cursor }).from(mailSources).where(eq(mailSources.id, sourceId));
  const cursor = row?.cursor as Partial<ImapCursor> | null | undefined;
  if (!cursor || typeof cursor.uidValidity !== "string" || typeof cursor.lastUid !== "number") return null;
  return { uidValidity: cursor.uidValidity, lastUid: cursor.lastUid };
}

/** Call only once every message up to cursor.lastUid is stored. */
export async function saveCursor(executor: Executor, sourceId: string, cursor: ImapCursor, at: Date): Promise<void> {
  await executor.update(mailSources).set({ cursor, lastSyncAt: at }).where(eq(mailSources.id, sourceId));
}

/** Clears a "Process Now" request once served; a newer request (another timestamp) stays. */
export async function clearSyncRequest(executor: Executor, sourceId: string, requestedAt: Date): Promise<void> {
  await executor
    .update(mailSources)
    .set({ syncRequestedAt: null })
    .where(and(eq(mailSources.id, sourceId), eq(mailSources.syncRequestedAt, requestedAt)));
}
