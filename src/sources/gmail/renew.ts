// Renews a Gmail watch: users.watch again (Gmail replaces the mailbox's watch and sets a new
// 7-day expiry). The cursor is not touched: a renewal never skips mail. The caller (the shared
// renewal pass, or POST /api/subscriptions/renew) records the new expiry or the failure.
import type { Context } from "../../context.ts";
import type { pushSubscriptions } from "../../db/schema.ts";
import { findSource } from "../../db/sources.ts";
import { setSourceStatus } from "../source-status.ts";
import { openGmailSession } from "./gmail-session.ts";
import { openGmailSource } from "./gmail-source.ts";
import { saveWatch, watchInbox } from "./watch.ts";

export type SubscriptionRow = typeof pushSubscriptions.$inferSelect;
export type RenewResult = { ok: true; expiresAt: Date } | { ok: false; error: { code: string; message: string } };

export async function renewGmailWatch(ctx: Context, subscription: SubscriptionRow): Promise<RenewResult> {
  const row = await findSource(ctx.db, subscription.sourceId);
  if (!row) return { ok: false, error: { code: "source_not_found", message: `The Gmail source ${subscription.sourceId} no longer exists.` } };
  const topicName = openGmailSource(ctx, row).config.topicName ?? subscription.resource;
  if (!topicName) {
    return { ok: false, error: { code: "no_topic", message: "The Gmail source has no topicName: set it to the Pub/Sub topic Gmail publishes to, e.g. projects/my-project/topics/mailgate." } };
  }
  const tokens = openGmailSource(ctx, row).secrets.tokens;
  if (!tokens?.refresh_token && !tokens?.access_token) {
    return { ok: false, error: { code: "not_authorized", message: "The Gmail source is not authorized: click Authorize on it and sign in to Google." } };
  }
  const watch = await watchInbox(openGmailSession(ctx, row), topicName);
  if (!watch.ok) {
    if (watch.failure.kind === "reauth") {
      await setSourceStatus(ctx, row.id, { status: "needs_reauth", error: { code: watch.failure.code, message: watch.failure.message } });
    }
    return { ok: false, error: watch.error };
  }
  await saveWatch(ctx.db, { sourceId: row.id, address: row.address, topicName, expiresAt: watch.expiresAt, now: ctx.clock.now() });
  return { ok: true, expiresAt: watch.expiresAt };
}
