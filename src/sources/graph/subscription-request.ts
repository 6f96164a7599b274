// The body of POST /subscriptions, and the clientState that authenticates what Graph sends back.
import { randomBytes } from "node:crypto";
import { INBOX_MESSAGES, pushUrls } from "./graph-endpoints.ts";

/** Graph's ceiling for Outlook message subscriptions, in minutes (just under 7 days). */
export const MAX_SUBSCRIPTION_MINUTES = 10_070;

export type SubscriptionRequest = {
  changeType: "created";
  resource: string;
  notificationUrl: string;
  lifecycleNotificationUrl: string;
  clientState: string;
  expirationDateTime: string;
};

export function subscriptionRequest(input: {
  publicUrl: string;
  clientState: string;
  now: Date;
  minutes: number;
}): SubscriptionRequest {
  return {
    changeType: "created",
    resource: INBOX_MESSAGES,
    ...pushUrls(input.publicUrl),
    clientState: input.clientState,
    expirationDateTime: subscriptionExpiry(input.now, input.minutes).toISOString(),
  };
}

/** now + minutes, never past Graph's ceiling (asking for more is an error, not a clamp). */
export function subscriptionExpiry(now: Date, minutes: number): Date {
  const bounded = Math.min(Math.max(minutes, 1), MAX_SUBSCRIPTION_MINUTES);
  return new Date(now.getTime() + bounded * 60_000);
}

/** 64 URL-safe characters: well under Graph's 128, and 384 random bits. */
export const newClientState = (random: (n: number) => Buffer = randomBytes) => random(48).toString("base64url");
