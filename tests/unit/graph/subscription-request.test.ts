import { describe, expect, it } from "vitest";
import { MAX_SUBSCRIPTION_MINUTES, newClientState, subscriptionExpiry, subscriptionRequest } from "../../../src/sources/graph/subscription-request.ts";

const now = new Date("2026-03-01T10:00:00.000Z");

describe("subscriptionRequest", () => {
  it("subscribes to created Inbox messages with both push URLs, the clientState and the expiry", () => {
    expect(subscriptionRequest({ publicUrl: "https://mg.example.com", clientState: "cs", now, minutes: 60 })).toEqual({
      changeType: "created",
      resource: "me/mailFolders('Inbox')/messages",
      notificationUrl: "https://mg.example.com/push/graph",
      lifecycleNotificationUrl: "https://mg.example.com/push/graph/lifecycle",
      clientState: "cs",
      expirationDateTime: "2026-03-01T11:00:00.000Z",
    });
  });
});

describe("subscriptionExpiry", () => {
  it("never asks for more than Graph's 10,070-minute ceiling", () => {
    expect(subscriptionExpiry(now, 20_000).getTime() - now.getTime()).toBe(MAX_SUBSCRIPTION_MINUTES * 60_000);
    expect(subscriptionExpiry(now, 10_070).toISOString()).toBe("2026-03-08T09:50:00.000Z");
  });
});

describe("newClientState", () => {
  it("is random, URL-safe and well under 128 characters", () => {
    const a = newClientState();
    expect(a).toMatch(/^[A-Za-z0-9_-]{64}$/);
    expect(newClientState()).not.toBe(a);
  });
});
