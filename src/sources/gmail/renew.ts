// Renews a Gmail watch (users.watch again) and stores the new expiry.
import type { Context } from "../../context.js";
import type { pushSubscriptions } from "../../db/schema.js";

export type SubscriptionRow = typeof pushSubscriptions.$inferSelect;
export type RenewResult = { ok: true; expiresAt: Date } | { ok: false; error: { code: string; message: string } };

export async function renewGmailWatch(_ctx: Context, _subscription: SubscriptionRow): Promise<RenewResult> {
  return { ok: false, error: { code: "not_available", message: "Gmail watch renewal is not available yet." } };
}
