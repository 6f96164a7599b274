import { describe, expect, it } from "vitest";
import { bucketIndex, bucketStarts, defaultBucket, planStatsWindow, type StatsWindow } from "../../../src/stats/stats-window.ts";

const NOW = new Date("2026-03-10T12:34:56.789Z");
const HOUR = 3600_000;
const DAY = 24 * HOUR;

function windowOf(plan: ReturnType<typeof planStatsWindow>): StatsWindow {
  if (plan.kind !== "window") throw new Error(`expected a window, got ${JSON.stringify(plan.problems)}`);
  return plan.window;
}

describe("planStatsWindow", () => {
  it("When nothing is asked, then the window is the last 24 hours in 15-minute buckets, widened to whole buckets", () => {
    const w = windowOf(planStatsWindow({}, NOW));
    expect(w).toEqual({
      from: new Date("2026-03-09T12:30:00.000Z"),
      to: new Date("2026-03-10T12:45:00.000Z"),
      bucket: "15m",
      bucketSeconds: 900,
      buckets: 97,
    });
  });

  it("When only from is asked, then the window runs to now", () => {
    const w = windowOf(planStatsWindow({ from: new Date("2026-03-10T11:40:00Z") }, NOW));
    expect([w.from.toISOString(), w.to.toISOString(), w.bucket]).toEqual(["2026-03-10T11:40:00.000Z", "2026-03-10T12:35:00.000Z", "minute"]);
  });

  it("When only to is asked, then the window starts 24 hours before it", () => {
    const w = windowOf(planStatsWindow({ to: new Date("2026-03-01T00:00:00Z") }, NOW));
    expect([w.from.toISOString(), w.to.toISOString(), w.buckets]).toEqual(["2026-02-28T00:00:00.000Z", "2026-03-01T00:00:00.000Z", 96]);
  });

  it("When the edges already sit on bucket boundaries, then the window is exactly what was asked", () => {
    const w = windowOf(planStatsWindow({ from: new Date("2026-03-03T00:00:00Z"), to: new Date("2026-03-10T00:00:00Z"), bucket: "day" }, NOW));
    expect([w.from.toISOString(), w.to.toISOString(), w.buckets, w.bucketSeconds]).toEqual(["2026-03-03T00:00:00.000Z", "2026-03-10T00:00:00.000Z", 7, 86_400]);
  });

  it("When day buckets are asked, then they start at midnight UTC whatever offset the times were written with", () => {
    const w = windowOf(planStatsWindow({ from: new Date("2026-03-03T01:30:00+02:00"), to: new Date("2026-03-04T10:00:00+02:00"), bucket: "day" }, NOW));
    expect(bucketStarts(w).map((d) => d.toISOString())).toEqual(["2026-03-02T00:00:00.000Z", "2026-03-03T00:00:00.000Z", "2026-03-04T00:00:00.000Z"]);
  });

  it("When a window is widened, then every bucket start is a multiple of the bucket size and they follow each other", () => {
    const w = windowOf(planStatsWindow({ from: new Date("2026-03-10T09:07:13Z"), to: new Date("2026-03-10T10:52:01Z"), bucket: "5m" }, NOW));
    const starts = bucketStarts(w).map((d) => d.getTime());
    expect(starts).toHaveLength(w.buckets);
    expect(starts.every((t) => t % 300_000 === 0)).toBe(true);
    expect(starts.slice(1).every((t, i) => t - starts[i]! === 300_000)).toBe(true);
    expect([new Date(starts[0]!).toISOString(), w.to.toISOString()]).toEqual(["2026-03-10T09:05:00.000Z", "2026-03-10T10:55:00.000Z"]);
  });

  it("When from is not earlier than to, then the plan names from and says to swap them", () => {
    const same = new Date("2026-03-10T10:00:00Z");
    const plan = planStatsWindow({ from: same, to: same }, NOW);
    expect(plan).toEqual({ kind: "invalid", problems: [{ field: "from", message: expect.stringContaining("must be earlier than to") }] });
  });

  it("When from lies after now and no to is asked, then the plan names from", () => {
    expect(planStatsWindow({ from: new Date(NOW.getTime() + HOUR) }, NOW)).toMatchObject({ kind: "invalid", problems: [{ field: "from" }] });
  });

  it("When the window holds more than 2,000 buckets of the asked size, then the plan names the bucket and suggests a larger one", () => {
    const plan = planStatsWindow({ from: new Date(NOW.getTime() - 2 * DAY), to: NOW, bucket: "minute" }, NOW);
    expect(plan).toEqual({ kind: "invalid", problems: [{ field: "bucket", message: expect.stringMatching(/2881 buckets of minute, more than 2000; choose a larger bucket/) }] });
  });

  it("When exactly 2,000 buckets fit, then the window is allowed", () => {
    const from = new Date("2026-03-01T00:00:00Z");
    const w = windowOf(planStatsWindow({ from, to: new Date(from.getTime() + 2000 * 60_000), bucket: "minute" }, NOW));
    expect(w.buckets).toBe(2000);
  });

  it("When the default bucket would still give more than 2,000, then the plan asks for a shorter window", () => {
    const plan = planStatsWindow({ from: new Date("2010-01-01T00:00:00Z"), to: NOW }, NOW);
    expect(plan).toEqual({ kind: "invalid", problems: [{ field: "from", message: expect.stringContaining("choose a shorter window") }] });
  });
});

describe("defaultBucket", () => {
  it("When the window grows, then the bucket grows with it: an hour by minute, a day by 15 minutes, a week by hour, a month by day", () => {
    expect(defaultBucket(HOUR)).toBe("minute");
    expect(defaultBucket(2 * HOUR)).toBe("minute");
    expect(defaultBucket(6 * HOUR)).toBe("5m");
    expect(defaultBucket(DAY)).toBe("15m");
    expect(defaultBucket(7 * DAY)).toBe("hour");
    expect(defaultBucket(30 * DAY)).toBe("day");
  });
});

describe("bucketIndex", () => {
  it("When each bucket start of a window is looked up, then it is found at its own position", () => {
    const w = windowOf(planStatsWindow({ from: new Date("2026-03-10T09:07:13Z"), to: new Date("2026-03-10T10:52:01Z"), bucket: "15m" }, NOW));
    expect(bucketStarts(w).map((start) => bucketIndex(w, start))).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });
});
