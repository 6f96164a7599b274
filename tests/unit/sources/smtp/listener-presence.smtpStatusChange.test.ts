import { describe, expect, it } from "vitest";
import { NO_LISTENER, smtpStatusChange } from "../../../../src/sources/smtp/listener-presence.ts";

describe("smtpStatusChange", () => {
  it("When a listener is present, then a source not yet connected becomes connected and a connected one is left as it is", () => {
    expect(smtpStatusChange(true, { status: "connecting", lastError: null })).toEqual({ status: "connected" });
    expect(smtpStatusChange(true, { status: "error", lastError: NO_LISTENER.message })).toEqual({ status: "connected" });
    expect(smtpStatusChange(true, { status: "connected", lastError: null })).toBeNull();
  });

  it("When no listener is present, then the source is in error naming SMTP_LISTEN, a failure a listener starting would fix, and once in it nothing more is written", () => {
    const change = smtpStatusChange(false, { status: "connected", lastError: null });
    expect(change).toEqual({ status: "error", error: NO_LISTENER, transient: true });
    expect(NO_LISTENER.message).toContain("SMTP_LISTEN");
    expect(smtpStatusChange(false, { status: "error", lastError: NO_LISTENER.message })).toBeNull();
    expect(smtpStatusChange(false, { status: "error", lastError: "something else" })).toEqual(change);
  });

  it("When the source is disabled, then neither answer changes it", () => {
    expect(smtpStatusChange(true, { status: "disabled", lastError: null })).toBeNull();
    expect(smtpStatusChange(false, { status: "disabled", lastError: null })).toBeNull();
  });
});
