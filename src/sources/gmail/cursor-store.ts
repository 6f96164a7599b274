// The Gmail cursor (mail_sources.cursor = {historyId}) moves only after every message before it
// is stored (a sync's finish, sync-requests.ts); lastSyncAt records the moment the mailbox was
// last known to be caught up. Here: the baseline of a first connection.
import { eq } from "drizzle-orm";
import type { Executor } from "../../db/client.ts";
import { mailSources } from "../../db/schema.ts";

/** The first connection's cursor, and the moment before it was taken: nothing older is ticketed. */
export async function saveBaseline(executor: Executor, sourceId: string, b: { historyId: string; connectedAt: Date; now: Date }): Promise<void> {
  await executor
    .update(mailSources)
    .set({ cursor: { historyId: b.historyId }, connectedAt: b.connectedAt, lastSyncAt: b.now })
    .where(eq(mailSources.id, sourceId));
}
