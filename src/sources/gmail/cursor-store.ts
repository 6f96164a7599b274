// The Gmail cursor (mail_sources.cursor = {historyId}) moves only after every message before it
// is stored; lastSyncAt records the moment the mailbox was last known to be caught up.
import { eq } from "drizzle-orm";
import type { Executor } from "../../db/client.ts";
import { mailSources } from "../../db/schema.ts";

export async function saveCursor(executor: Executor, sourceId: string, historyId: string, now: Date): Promise<void> {
  await executor.update(mailSources).set({ cursor: { historyId }, lastSyncAt: now }).where(eq(mailSources.id, sourceId));
}
