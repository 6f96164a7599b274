import { describe, expect, it } from "vitest";
import { cronProblem, nextProcessingTime } from "../../../src/scheduler/processing-window.ts";

const businessHours = { mode: "scheduled" as const, cron: ["* 8-17 * * 1-5"], timezone: "Europe/Berlin" };

describe("nextProcessingTime", () => {
  it("When the source is continuous or manual, then mail is processed at once", () => {
    expect(nextProcessingTime({ mode: "continuous" }, new Date())).toBeNull();
    expect(nextProcessingTime({ mode: "manual" }, new Date())).toBeNull();
    expect(nextProcessingTime(null, new Date())).toBeNull();
  });

  it("When mail arrives inside business hours in the source's timezone, then it is processed at once", () => {
    // Monday 2026-11-23 10:30 in Berlin is 09:30 UTC.
    expect(nextProcessingTime(businessHours, new Date("2026-11-23T09:30:12Z"))).toBeNull();
  });

  it("When mail arrives on Saturday night, then it waits for Monday 08:00 Berlin time", () => {
    const next = nextProcessingTime(businessHours, new Date("2026-11-21T22:00:00Z"));
    expect(next?.toISOString()).toBe("2026-11-23T07:00:00.000Z");
  });

  it("When a schedule names specific times, then mail waits for the next of them across all expressions", () => {
    const schedule = { mode: "scheduled" as const, cron: ["0 9 * * *", "30 13 * * *"], timezone: "UTC" };
    expect(nextProcessingTime(schedule, new Date("2026-11-23T10:00:00Z"))?.toISOString()).toBe("2026-11-23T13:30:00.000Z");
    expect(nextProcessingTime(schedule, new Date("2026-11-23T09:00:40Z"))).toBeNull();
  });
});

describe("cronProblem", () => {
  it("When an expression is not cron, then the problem says what to write instead", () => {
    expect(cronProblem("every monday", "UTC")).toMatch(/0 8-18 \* \* 1-5/);
    expect(cronProblem("0 8-18 * * 1-5", "Europe/Berlin")).toBeNull();
  });
});
