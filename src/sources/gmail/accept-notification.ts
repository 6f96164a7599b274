// A Gmail notification (by push or pull) becomes durable work: the sync request of the mailbox it
// names, committed before the caller acknowledges it to Pub/Sub.
import type { Context } from "../../context.ts";
import type { GmailNotification } from "./gmail-notification.ts";
import { requestGmailSyncForMailbox } from "./sync-requests.ts";

export type Accepted = { kind: "recorded"; sourceIds: string[] } | { kind: "unknown_mailbox"; emailAddress: string };

export async function acceptGmailNotification(ctx: Context, notification: GmailNotification): Promise<Accepted> {
  const sourceIds = await requestGmailSyncForMailbox(ctx.db, { ...notification, now: ctx.clock.now() });
  if (sourceIds.length === 0) return { kind: "unknown_mailbox", emailAddress: notification.emailAddress };
  ctx.database.wake("gmail_sync");
  return { kind: "recorded", sourceIds };
}
