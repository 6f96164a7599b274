import { describe, expect, it } from "vitest";
import { SYNC_BACKOFF_CAP_MS, syncRetryDelayMs } from "../../../src/sources/gmail/sync-backoff.ts";

describe("syncRetryDelayMs", () => {
  it("doubles from one second, with jitter in the upper half", () => {
    expect(syncRetryDelayMs(1, () => 0)).toBe(500);
    expect(syncRetryDelayMs(1, () => 1)).toBe(1000);
    expect(syncRetryDelayMs(3, () => 1)).toBe(4000);
  });

  it("never waits longer than the cap", () => {
    expect(syncRetryDelayMs(40, () => 1)).toBe(SYNC_BACKOFF_CAP_MS);
  });

  it("honours a longer Retry-After from Google, up to the cap", () => {
    expect(syncRetryDelayMs(1, () => 0, 30_000)).toBe(30_000);
    expect(syncRetryDelayMs(1, () => 0, 3_600_000)).toBe(SYNC_BACKOFF_CAP_MS);
  });
});
