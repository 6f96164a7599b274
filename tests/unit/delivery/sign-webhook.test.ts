import { describe, expect, it } from "vitest";
import { Webhook } from "standardwebhooks";
import { generateWebhookSecret, signWebhook } from "../../../src/delivery/sign-webhook.ts";

const OLD = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const NEW = generateWebhookSecret();
const body = JSON.stringify({ type: "webhook.test", timestamp: "2025-03-14T08:00:00.000Z", data: { message: "hi" } });
const id = "evt_3q2y8XhK0c1mWbUu7Zt9Qa";

describe("signWebhook", () => {
  it("produces headers the standardwebhooks library verifies", () => {
    const headers = signWebhook({ id, timestamp: new Date(), body, secrets: [NEW] });
    expect(new Webhook(NEW).verify(body, headers)).toEqual(JSON.parse(body));
  });

  it("during a rotation, a receiver holding either the old or the new secret accepts the delivery", () => {
    const headers = signWebhook({ id, timestamp: new Date(), body, secrets: [NEW, OLD] });
    expect(headers["webhook-signature"].split(" ")).toHaveLength(2);
    expect(() => new Webhook(OLD).verify(body, headers)).not.toThrow();
    expect(() => new Webhook(NEW).verify(body, headers)).not.toThrow();
    expect(() => new Webhook(generateWebhookSecret()).verify(body, headers)).toThrow();
  });

  it("a changed body, id or timestamp no longer verifies", () => {
    const now = new Date();
    const headers = signWebhook({ id, timestamp: now, body, secrets: [NEW] });
    const wh = new Webhook(NEW);
    expect(() => wh.verify(body.replace("hi", "ho"), headers)).toThrow();
    expect(() => wh.verify(body, { ...headers, "webhook-id": "evt_other" })).toThrow();
    const earlier = String(Number(headers["webhook-timestamp"]) - 1);
    expect(() => wh.verify(body, { ...headers, "webhook-timestamp": earlier })).toThrow();
  });

  it("matches the Standard Webhooks reference signature for a known secret, id, time and body", () => {
    const timestamp = new Date(1614265330 * 1000);
    const headers = signWebhook({ id: "msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp, body: '{"test": 2432232314}', secrets: [OLD] });
    expect(headers["webhook-signature"]).toBe(new Webhook(OLD).sign("msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp, '{"test": 2432232314}'));
    expect(headers["webhook-signature"]).toBe("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
  });

  it("sends the id unchanged and the time in whole seconds, so a retry differs only in timestamp and signature", () => {
    const first = signWebhook({ id, timestamp: new Date("2025-03-14T08:00:00.999Z"), body, secrets: [NEW] });
    const retry = signWebhook({ id, timestamp: new Date("2025-03-14T08:00:05.000Z"), body, secrets: [NEW] });
    expect(first["webhook-id"]).toBe(id);
    expect(retry["webhook-id"]).toBe(id);
    expect(first["webhook-timestamp"]).toBe("1741939200");
    expect(retry["webhook-timestamp"]).toBe("1741939205");
    expect(retry["webhook-signature"]).not.toBe(first["webhook-signature"]);
  });

  it("refuses to sign without a secret rather than send an unsigned delivery", () => {
    expect(() => signWebhook({ id, timestamp: new Date(), body, secrets: [] })).toThrow(/at least one secret/);
  });
});

describe("generateWebhookSecret", () => {
  it("is whsec_ followed by base64 of 32 bytes from the random source", () => {
    const secret = generateWebhookSecret((n) => Buffer.alloc(n, 7));
    expect(secret).toBe("whsec_" + Buffer.alloc(32, 7).toString("base64"));
    expect(Buffer.from(secret.slice(6), "base64")).toHaveLength(32);
  });

  it("gives a different secret each time by default", () => {
    expect(generateWebhookSecret()).not.toBe(generateWebhookSecret());
  });
});
