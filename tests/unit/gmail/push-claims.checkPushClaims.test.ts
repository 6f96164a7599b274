import { describe, expect, it } from "vitest";
import { checkPushClaims } from "../../../src/sources/gmail/push-claims.ts";

const SA = "push@project.iam.gserviceaccount.com";

describe("checkPushClaims", () => {
  it("accepts a token issued to the configured service account with a verified email", () => {
    expect(checkPushClaims({ email: SA, email_verified: true }, SA)).toEqual({ ok: true });
  });

  it("compares the service account case-insensitively", () => {
    expect(checkPushClaims({ email: SA.toUpperCase(), email_verified: true }, SA).ok).toBe(true);
  });

  it("refuses a token of another service account, naming both and the variable to set", () => {
    const check = checkPushClaims({ email: "other@evil.example", email_verified: true }, SA);
    expect(check.ok).toBe(false);
    expect(!check.ok && check.reason).toContain("other@evil.example");
    expect(!check.ok && check.reason).toContain("GMAIL_PUSH_SERVICE_ACCOUNT");
  });

  it("refuses a token whose email is not verified", () => {
    expect(checkPushClaims({ email: SA, email_verified: false }, SA).ok).toBe(false);
    expect(checkPushClaims({ email: SA }, SA).ok).toBe(false);
  });

  it("refuses a token without claims", () => {
    expect(checkPushClaims(undefined, SA).ok).toBe(false);
  });
});
