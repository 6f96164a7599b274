import { describe, expect, it } from "vitest";
import { checkBasicAuth } from "../../../../src/sources/inbound-webhook/check-basic-auth.ts";

const header = (text: string) => `Basic ${Buffer.from(text).toString("base64")}`;

describe("checkBasicAuth", () => {
  it("When the header carries exactly the user and password, then it passes; anything else fails", () => {
    expect(checkBasicAuth(header("u:secret-password"), "u", "secret-password")).toBe(true);
    expect(checkBasicAuth(header("u:secret-passwor"), "u", "secret-password")).toBe(false);
    expect(checkBasicAuth(header("v:secret-password"), "u", "secret-password")).toBe(false);
    expect(checkBasicAuth(undefined, "u", "secret-password")).toBe(false);
    expect(checkBasicAuth("Bearer abc", "u", "secret-password")).toBe(false);
  });
});
