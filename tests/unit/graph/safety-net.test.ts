import { describe, expect, it } from "vitest";
import { isSafetyNetDue } from "../../../src/sources/graph/safety-net.js";

const now = new Date("2026-03-01T10:00:00Z");
const minutesAgo = (m: number) => new Date(now.getTime() - m * 60_000);

describe("isSafetyNetDue", () => {
  it("runs a continuous source's catch-up every 5 minutes", () => {
    expect(isSafetyNetDue({ schedule: { mode: "continuous" }, lastSyncAt: minutesAgo(4), now })).toBe(false);
    expect(isSafetyNetDue({ schedule: { mode: "continuous" }, lastSyncAt: minutesAgo(5), now })).toBe(true);
    expect(isSafetyNetDue({ schedule: { mode: "continuous" }, lastSyncAt: null, now })).toBe(true);
  });

  it("leaves manual and scheduled sources to Process Now and their schedule", () => {
    expect(isSafetyNetDue({ schedule: { mode: "manual" }, lastSyncAt: null, now })).toBe(false);
    expect(isSafetyNetDue({ schedule: { mode: "scheduled", cron: ["0 * * * *"] }, lastSyncAt: minutesAgo(60), now })).toBe(false);
  });
});
