import { describe, expect, it } from "vitest";
import { canSend, refreshScope } from "../../../src/sources/graph/granted-scopes.ts";

describe("canSend", () => {
  it("When the grant includes Mail.Send, then the source can send, however Microsoft spells the scope", () => {
    expect(canSend({ scope: "Mail.Read Mail.ReadWrite Mail.Send User.Read profile openid email" })).toBe(true);
    expect(canSend({ scope: "https://graph.microsoft.com/Mail.Read https://graph.microsoft.com/Mail.Send" })).toBe(true);
    expect(canSend({ scope: "mail.send" })).toBe(true);
  });

  it("When the grant predates Mail.Send, lacks a scope, or there are no tokens, then the source cannot send", () => {
    expect(canSend({ scope: "Mail.Read Mail.ReadWrite User.Read profile openid email" })).toBe(false);
    expect(canSend({ scope: "Mail.SendAsUser Mail.Send.Shared" })).toBe(false);
    expect(canSend({ scope: "" })).toBe(false);
    expect(canSend(null)).toBe(false);
  });
});

describe("refreshScope", () => {
  it("When a grant is stored, then a refresh asks for it and offline access, never for a scope it lacks", () => {
    expect(refreshScope("Mail.Read Mail.ReadWrite User.Read profile openid email")).toBe(
      "offline_access Mail.Read Mail.ReadWrite User.Read profile openid email",
    );
    expect(refreshScope("offline_access Mail.Read Mail.Send")).toBe("offline_access Mail.Read Mail.Send");
  });

  it("When the stored tokens carry no scope, then a refresh asks for the reading scopes every earlier grant held", () => {
    expect(refreshScope("")).toBe("offline_access Mail.Read Mail.ReadWrite User.Read");
  });
});
