import { describe, expect, it } from "vitest";
import { backoffMs, classifyGraphFailure, retryAfterMs } from "../../../src/sources/graph/graph-failure.ts";

const now = new Date("2026-03-01T10:00:00Z");
const message = "m";

describe("classifyGraphFailure", () => {
  it("When the grant is revoked, then the source needs re-authorization", () => {
    expect(classifyGraphFailure({ status: 400, code: "invalid_grant", message, now }).kind).toBe("reauth");
  });

  it("When Graph lost the delta state, then it is a resync, by status or by code", () => {
    expect(classifyGraphFailure({ status: 410, code: "SyncStateNotFound", message, now }).kind).toBe("sync_state_lost");
    expect(classifyGraphFailure({ status: 400, code: "syncStateInvalid", message, now }).kind).toBe("sync_state_lost");
  });

  it("When Graph throttles, then the wait is its Retry-After, or 30 s without one", () => {
    expect(classifyGraphFailure({ status: 429, retryAfter: "7", message, now })).toEqual({ kind: "throttled", retryAfterMs: 7000, message });
    expect(classifyGraphFailure({ status: 503, message, now })).toEqual({ kind: "throttled", retryAfterMs: 30_000, message });
  });

  it("sorts the rest into not found, transient (no answer, 408, 5xx) and rejected", () => {
    expect(classifyGraphFailure({ status: 404, message, now }).kind).toBe("not_found");
    expect(classifyGraphFailure({ status: -1, message, now }).kind).toBe("transient");
    expect(classifyGraphFailure({ status: 502, message, now }).kind).toBe("transient");
    expect(classifyGraphFailure({ status: 403, code: "ErrorAccessDenied", message, now })).toEqual({
      kind: "rejected",
      status: 403,
      code: "ErrorAccessDenied",
      message,
    });
  });
});

describe("retryAfterMs", () => {
  it("reads seconds and HTTP dates, and nothing else", () => {
    expect(retryAfterMs("2", now)).toBe(2000);
    expect(retryAfterMs("Sun, 01 Mar 2026 10:00:05 GMT", now)).toBe(5000);
    expect(retryAfterMs("soon", now)).toBeNull();
    expect(retryAfterMs(null, now)).toBeNull();
  });
});

describe("backoffMs", () => {
  it("doubles from 5 seconds and stops at an hour", () => {
    expect([1, 2, 3].map(backoffMs)).toEqual([5000, 10_000, 20_000]);
    expect(backoffMs(30)).toBe(3_600_000);
  });
});
