// The overview's windows ask GET /api/stats for whole buckets ending with the one now falls in.
import { describe, expect, it } from "vitest";

type Window = { key: string; seconds: number; bucket: string; bucketSeconds: number };
type StatsWindows = {
  WINDOWS: Window[];
  SPARKLINE: Omit<Window, "key">;
  statsQuery(window: Omit<Window, "key">, now: number): string;
};

// A plain browser module, typed here by what it exports.
const windows = (await import(new URL("../../../console/screens/stats-windows.js", import.meta.url).href)) as StatsWindows;

const asked = (window: Omit<Window, "key">, now: string) => Object.fromEntries(new URLSearchParams(windows.statsQuery(window, Date.parse(now))));

describe("the overview's stats windows", () => {
  it("When it is 10:07:30, then the 24-hour view asks for 15-minute buckets from 10:15 yesterday to 10:15 today", () => {
    expect(asked(windows.WINDOWS.find((w) => w.key === "24h")!, "2026-05-02T10:07:30.000Z")).toEqual({
      from: "2026-05-01T10:15:00.000Z",
      to: "2026-05-02T10:15:00.000Z",
      bucket: "15m",
    });
  });

  it("When it is exactly on a bucket's start, then that bucket is the last one asked for", () => {
    expect(asked(windows.WINDOWS.find((w) => w.key === "1h")!, "2026-05-02T10:07:00.000Z")).toEqual({
      from: "2026-05-02T09:08:00.000Z",
      to: "2026-05-02T10:08:00.000Z",
      bucket: "minute",
    });
  });

  it("When the sparklines ask, then they get 24 whole hours, the current one last", () => {
    const q = asked(windows.SPARKLINE, "2026-05-02T10:59:59.999Z");
    expect(q).toEqual({ from: "2026-05-01T11:00:00.000Z", to: "2026-05-02T11:00:00.000Z", bucket: "hour" });
  });

  it("When any window is asked for, then it spans its length in whole buckets", () => {
    for (const w of windows.WINDOWS) {
      const q = asked(w, "2026-05-02T10:07:30.000Z");
      const span = (Date.parse(q.to!) - Date.parse(q.from!)) / 1000;
      expect(span, w.key).toBe(w.seconds);
      expect(span % w.bucketSeconds, w.key).toBe(0);
      expect((Date.parse(q.to!) / 1000) % w.bucketSeconds, w.key).toBe(0);
    }
  });
});
