// A Gmail notification (by push or pull) becomes durable work: the sync request of the mailbox it
// names, committed before the caller acknowledges it to Pub/Sub.
import { and, eq } from "drizzle-orm";
import type { Context } from "../../context.js";
import { mailSources } from "../../db/schema.js";
import type { GmailNotification } from "./gmail-notification.js";
import { requestGmailSync } from "./sync-requests.js";

export type Accepted = { kind: "recorded"; sourceIds: string[] } | { kind: "unknown_mailbox"; emailAddress: string };

export async function acceptGmailNotification(ctx: Context, notification: GmailNotification): Promise<Accepted> {
  const now = ctx.clock.now();
  const sources = await ctx.db
    .select({ id: mailSources.id, status: mailSources.status })
    .from(mailSources)
    .where(and(eq(mailSources.kind, "gmail"), eq(mailSources.address, notification.emailAddress)));
  const live = sources.filter((s) => s.status !== "disabled");
  if (live.length === 0) return { kind: "unknown_mailbox", emailAddress: notification.emailAddress };
  for (const source of live) {
    await requestGmailSync(ctx.db, { sourceId: source.id, historyId: notification.historyId, now });
  }
  ctx.database.wake("sync");
  return { kind: "recorded", sourceIds: live.map((s) => s.id) };
}
