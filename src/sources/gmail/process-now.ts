// "Process Now" on a Gmail source (POST /api/sources/:id/process sets sync_requested_at and wakes
// "sources"): the request becomes a forced sync of that mailbox.
import { and, eq, isNotNull } from "drizzle-orm";
import type { Context } from "../../context.ts";
import { mailSources } from "../../db/schema.ts";
import { takeSyncRequest } from "../source-status.ts";
import { requestGmailSync } from "./sync-requests.ts";

export async function takeProcessNowRequests(ctx: Context): Promise<number> {
  const rows = await ctx.db
    .select({ id: mailSources.id })
    .from(mailSources)
    .where(and(eq(mailSources.kind, "gmail"), isNotNull(mailSources.syncRequestedAt)));
  let taken = 0;
  for (const { id } of rows) {
    if (!(await takeSyncRequest(ctx, id))) continue;
    await requestGmailSync(ctx.db, { sourceId: id, force: true, now: ctx.clock.now() });
    taken++;
  }
  if (taken > 0) ctx.database.wake("gmail_sync");
  return taken;
}
