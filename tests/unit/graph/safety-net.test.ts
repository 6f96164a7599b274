import { describe, expect, it } from "vitest";
import { collectsContinuously, isSafetyNetDue } from "../../../src/sources/graph/safety-net.ts";

const now = new Date("2026-03-01T10:00:00Z");
const minutesAgo = (m: number) => new Date(now.getTime() - m * 60_000);
const scheduled = { mode: "scheduled", cron: ["0 8-18 * * 1-5"], timezone: "UTC" };

describe("isSafetyNetDue", () => {
  it("runs a continuous source's catch-up every 5 minutes", () => {
    expect(isSafetyNetDue({ schedule: { mode: "continuous" }, lastSyncAt: minutesAgo(4), now })).toBe(false);
    expect(isSafetyNetDue({ schedule: { mode: "continuous" }, lastSyncAt: minutesAgo(5), now })).toBe(true);
    expect(isSafetyNetDue({ schedule: { mode: "continuous" }, lastSyncAt: null, now })).toBe(true);
  });

  it("runs for a scheduled source too: its mail is collected at once and waits for the window", () => {
    expect(isSafetyNetDue({ schedule: scheduled, lastSyncAt: minutesAgo(6), now })).toBe(true);
  });

  it("leaves a manual source to Process Now", () => {
    expect(isSafetyNetDue({ schedule: { mode: "manual" }, lastSyncAt: null, now })).toBe(false);
  });
});

describe("collectsContinuously", () => {
  it("is false only for manual sources", () => {
    expect([{ mode: "continuous" }, scheduled, { mode: "manual" }, null].map(collectsContinuously)).toEqual([true, true, false, true]);
  });
});
