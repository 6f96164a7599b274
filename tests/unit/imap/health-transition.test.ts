import { describe, expect, it } from "vitest";
import { healthAfterFailure, healthChanged, healthFromRow, isNewFailureState, type Health } from "../../../src/sources/imap/health-transition.ts";

const auth = { code: "auth" as const, message: "IMAP login failed …", settingsProblem: true };
const refused = { code: "refused" as const, message: "127.0.0.1:993 refused the connection …", settingsProblem: false };

describe("healthAfterFailure", () => {
  it("fails a source at once for a settings problem such as a wrong password, announced at once", () => {
    expect(healthAfterFailure(auth, false)).toEqual({ status: "error", error: { code: "auth", message: auth.message }, transient: false });
  });

  it("When a server cannot be reached, then the first failed attempt shows the source in error with the reason, its announcement left to wait", () => {
    expect(healthAfterFailure(refused, false)).toEqual({ status: "error", error: { code: "refused", message: refused.message }, transient: true });
  });

  it("When a working connection is lost, then the source is 'connecting' while it reconnects, unless the settings stopped working", () => {
    expect(healthAfterFailure({ ...refused, code: "closed" as const }, true)).toEqual({ status: "connecting" });
    expect(healthAfterFailure(auth, true)).toMatchObject({ status: "error", transient: false });
  });
});

describe("healthChanged", () => {
  it("writes a status that differs, or an error whose message changed", () => {
    const error = (message: string): Health => ({ status: "error", error: { code: "auth", message } });
    expect(healthChanged(null, { status: "connected" })).toBe(true);
    expect(healthChanged({ status: "connecting" }, { status: "connected" })).toBe(true);
    expect(healthChanged({ status: "connected" }, { status: "connected" })).toBe(false);
    expect(healthChanged(error("a"), error("a"))).toBe(false);
    expect(healthChanged(error("a"), error("b"))).toBe(true);
  });
});

describe("healthFromRow", () => {
  it("reads the stored status a supervisor starts from", () => {
    expect(healthFromRow("error", "bad password")).toEqual({ status: "error", error: { code: "unknown", message: "bad password" } });
    expect(healthFromRow("connecting", null)).toEqual({ status: "connecting" });
    expect(healthFromRow("needs_reauth", null)).toEqual({ status: "other" });
  });
});

describe("isNewFailureState", () => {
  it("logs a warning for the first failure, a new reason or a new status, and not for the same failure again", () => {
    const connecting = { status: "connecting" as const, message: refused.message };
    expect(isNewFailureState(null, connecting)).toBe(true);
    expect(isNewFailureState(connecting, connecting)).toBe(false);
    expect(isNewFailureState(connecting, { status: "error", message: refused.message })).toBe(true);
    expect(isNewFailureState(connecting, { status: "connecting", message: auth.message })).toBe(true);
  });
});
