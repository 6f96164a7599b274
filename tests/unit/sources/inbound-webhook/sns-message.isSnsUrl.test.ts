import { describe, expect, it } from "vitest";
import { isSnsUrl } from "../../../../src/sources/inbound-webhook/sns-message.ts";

describe("isSnsUrl", () => {
  it("When no base is set, then only https on sns.<region>.amazonaws.com passes", () => {
    expect(isSnsUrl("https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-abc.pem", null)).toBe(true);
    expect(isSnsUrl("https://sns.cn-north-1.amazonaws.com.cn/x.pem", null)).toBe(true);
    expect(isSnsUrl("http://sns.eu-west-1.amazonaws.com/x.pem", null)).toBe(false);
    expect(isSnsUrl("https://sns.eu-west-1.amazonaws.com.evil.example/x.pem", null)).toBe(false);
    expect(isSnsUrl("https://evil.example/sns.eu-west-1.amazonaws.com/x.pem", null)).toBe(false);
    expect(isSnsUrl("https://user@sns.eu-west-1.amazonaws.com/x.pem", null)).toBe(false);
    expect(isSnsUrl("https://sns.eu-west-1.amazonaws.com:8443/x.pem", null)).toBe(false);
  });

  it("When a base is set, then only URLs under it pass, not a sibling path that shares its prefix", () => {
    expect(isSnsUrl("https://localhost:8443/sns/cert.pem", "https://localhost:8443/sns")).toBe(true);
    expect(isSnsUrl("https://localhost:8443/snsx/cert.pem", "https://localhost:8443/sns")).toBe(false);
    expect(isSnsUrl("https://sns.eu-west-1.amazonaws.com/x.pem", "https://localhost:8443/sns")).toBe(false);
  });
});
