import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { verifyMailgunSignature } from "../../../../src/sources/inbound-webhook/verify-mailgun.ts";

const KEY = "key-test";
const now = new Date("2026-12-06T12:00:00Z");
const signed = (timestamp: string, token = "t".repeat(50)) => ({ timestamp, token, signature: createHmac("sha256", KEY).update(timestamp + token).digest("hex") });
const at = (offsetS: number) => String(now.getTime() / 1000 + offsetS);

describe("verifyMailgunSignature", () => {
  it("When the HMAC of timestamp + token matches and the timestamp is recent, then it is accepted", () => {
    expect(verifyMailgunSignature(signed(at(-60)), KEY, now)).toEqual({ ok: true });
    expect(verifyMailgunSignature(signed(at(30)), KEY, now)).toEqual({ ok: true });
  });

  it("When the key, the token or the signature differ, then it is refused", () => {
    expect(verifyMailgunSignature(signed(at(0)), "other", now).ok).toBe(false);
    expect(verifyMailgunSignature({ ...signed(at(0)), token: "x".repeat(50) }, KEY, now).ok).toBe(false);
    expect(verifyMailgunSignature({ ...signed(at(0)), signature: "zz" }, KEY, now).ok).toBe(false);
  });

  it("When the timestamp is over 5 minutes old or over a minute ahead, then it is refused as stale", () => {
    expect(verifyMailgunSignature(signed(at(-301)), KEY, now)).toMatchObject({ ok: false, reason: expect.stringMatching(/old/) });
    expect(verifyMailgunSignature(signed(at(61)), KEY, now)).toMatchObject({ ok: false, reason: expect.stringMatching(/future/) });
  });
});
