// A Gmail notification (by push or pull) becomes durable work: the sync request of the mailbox it
// names, committed before the caller acknowledges it to Pub/Sub. Notifications arriving while
// another's request is being written are written together, in one statement (group commit).
import type { Context } from "../../context.ts";
import { createGroupCommit } from "../../db/group-commit.ts";
import type { GmailNotification } from "./gmail-notification.ts";
import { requestGmailSyncForMailboxes } from "./sync-requests.ts";

export type Accepted = { kind: "recorded" } | { kind: "unknown_mailbox"; emailAddress: string };

export type AcceptGmailNotification = (notification: GmailNotification) => Promise<Accepted>;

/** Pub/Sub pushes at most a few hundred bytes each: a batch is bounded by count alone. */
const MAX_NOTIFICATIONS = 256;

export function createNotificationIntake(ctx: Context): AcceptGmailNotification {
  const group = createGroupCommit(
    {
      write: async (notifications: GmailNotification[]) => {
        const read = await requestGmailSyncForMailboxes(ctx.db, notifications, ctx.clock.now());
        return notifications.map((n): Accepted => (read.has(n.emailAddress) ? { kind: "recorded" } : { kind: "unknown_mailbox", emailAddress: n.emailAddress }));
      },
      afterCommit: () => ctx.database.wake("gmail_sync"),
    },
    { maxItems: MAX_NOTIFICATIONS },
  );
  return group.submit;
}
