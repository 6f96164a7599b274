import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { nextAttempt, parseRetryAfter } from "../../../src/delivery/retry-policy.ts";

const DEFAULT_SCHEDULE = [0, 5, 300, 1800, 7200, 18000, 36000, 36000];
const now = new Date("2025-03-14T12:00:00.000Z");
const noJitter = () => 0.5;
const delayOf = (r: ReturnType<typeof nextAttempt>) => (r.kind === "retry" ? r.at.getTime() - now.getTime() : null);

const schedules = fc.array(fc.integer({ min: 0, max: 200_000 }), { minLength: 1, maxLength: 12 });
const randoms = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true });

describe("nextAttempt", () => {
  it("with the default schedule, waits 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h after failures 1 to 7, then gives up", () => {
    const delays = [1, 2, 3, 4, 5, 6, 7].map((attempts) =>
      delayOf(nextAttempt({ attempts, scheduleSeconds: DEFAULT_SCHEDULE, now, random: noJitter })),
    );
    expect(delays).toEqual([5, 300, 1800, 7200, 18000, 36000, 36000].map((s) => s * 1000));
    expect(nextAttempt({ attempts: 8, scheduleSeconds: DEFAULT_SCHEDULE, now, random: noJitter })).toEqual({ kind: "exhausted" });
  });

  it("sends the first attempt immediately when the schedule starts with 0, whatever the jitter", () => {
    fc.assert(
      fc.property(randoms, (r) => {
        expect(nextAttempt({ attempts: 0, scheduleSeconds: DEFAULT_SCHEDULE, now, random: () => r })).toEqual({ kind: "retry", at: now });
      }),
    );
  });

  it("never schedules an attempt in the past", () => {
    fc.assert(
      fc.property(schedules, fc.nat({ max: 15 }), randoms, fc.option(fc.oneof(fc.nat().map(String), fc.string())), (schedule, attempts, r, retryAfter) => {
        const d = delayOf(nextAttempt({ attempts, scheduleSeconds: schedule, now, random: () => r, retryAfter }));
        if (d !== null) expect(d).toBeGreaterThanOrEqual(0);
      }),
    );
  });

  it("gives up exactly when the failures outnumber the schedule's entries, and not before", () => {
    fc.assert(
      fc.property(schedules, fc.nat({ max: 20 }), randoms, (schedule, attempts, r) => {
        const result = nextAttempt({ attempts, scheduleSeconds: schedule, now, random: () => r });
        expect(result.kind).toBe(attempts < schedule.length ? "retry" : "exhausted");
      }),
    );
  });

  it("without jitter, a non-decreasing schedule gives non-decreasing delays", () => {
    fc.assert(
      fc.property(schedules.map((s) => [...s].sort((a, b) => a - b)), (schedule) => {
        const delays = schedule.map((_, attempts) => delayOf(nextAttempt({ attempts, scheduleSeconds: schedule, now, random: noJitter }))!);
        for (let i = 1; i < delays.length; i++) expect(delays[i]).toBeGreaterThanOrEqual(delays[i - 1]!);
      }),
    );
  });

  it("keeps the jittered delay within 10% of the scheduled one", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 200_000 }), randoms, (seconds, r) => {
        const d = delayOf(nextAttempt({ attempts: 1, scheduleSeconds: [0, seconds], now, random: () => r }))!;
        expect(d).toBeGreaterThanOrEqual(Math.floor(seconds * 1000 * 0.9));
        expect(d).toBeLessThanOrEqual(Math.ceil(seconds * 1000 * 1.1));
      }),
    );
  });

  it("spreads retries of endpoints that failed together", () => {
    const low = delayOf(nextAttempt({ attempts: 2, scheduleSeconds: DEFAULT_SCHEDULE, now, random: () => 0 }));
    const high = delayOf(nextAttempt({ attempts: 2, scheduleSeconds: DEFAULT_SCHEDULE, now, random: () => 0.999 }));
    expect(low).toBe(270_000);
    expect(high).toBeGreaterThan(329_000);
  });

  it("waits as long as a Retry-After in seconds asks when that is longer than the schedule", () => {
    const r = nextAttempt({ attempts: 1, scheduleSeconds: DEFAULT_SCHEDULE, now, random: noJitter, retryAfter: "120" });
    expect(delayOf(r)).toBe(120_000);
  });

  it("waits until a Retry-After HTTP date", () => {
    const r = nextAttempt({ attempts: 1, scheduleSeconds: DEFAULT_SCHEDULE, now, random: noJitter, retryAfter: "Fri, 14 Mar 2025 12:10:00 GMT" });
    expect(delayOf(r)).toBe(600_000);
  });

  it("keeps the scheduled delay when Retry-After asks for less", () => {
    const r = nextAttempt({ attempts: 3, scheduleSeconds: DEFAULT_SCHEDULE, now, random: noJitter, retryAfter: "10" });
    expect(delayOf(r)).toBe(1_800_000);
  });

  it("caps a Retry-After at 24 hours", () => {
    const r = nextAttempt({ attempts: 1, scheduleSeconds: DEFAULT_SCHEDULE, now, random: noJitter, retryAfter: "9999999" });
    expect(delayOf(r)).toBe(24 * 3600 * 1000);
  });

  it("ignores a Retry-After it cannot read and follows the schedule", () => {
    for (const retryAfter of ["soon", "1.5", "-30", ""]) {
      const r = nextAttempt({ attempts: 1, scheduleSeconds: DEFAULT_SCHEDULE, now, random: noJitter, retryAfter });
      expect(delayOf(r)).toBe(5_000);
    }
  });

  it("does not let a Retry-After revive a delivery whose schedule is used up", () => {
    expect(nextAttempt({ attempts: 8, scheduleSeconds: DEFAULT_SCHEDULE, now, random: noJitter, retryAfter: "60" })).toEqual({ kind: "exhausted" });
  });

  it("rejects a negative or fractional attempt count as a programming error", () => {
    expect(() => nextAttempt({ attempts: -1, scheduleSeconds: DEFAULT_SCHEDULE, now, random: noJitter })).toThrow(RangeError);
    expect(() => nextAttempt({ attempts: 1.5, scheduleSeconds: DEFAULT_SCHEDULE, now, random: noJitter })).toThrow(RangeError);
  });
});

describe("parseRetryAfter", () => {
  it("reads delay-seconds and HTTP dates, and treats a date in the past as no wait", () => {
    expect(parseRetryAfter(" 30 ", now)).toBe(30_000);
    expect(parseRetryAfter("Fri, 14 Mar 2025 12:00:30 GMT", now)).toBe(30_000);
    expect(parseRetryAfter("Thu, 13 Mar 2025 12:00:00 GMT", now)).toBe(0);
    expect(parseRetryAfter("5", now)).toBe(5_000);
    expect(parseRetryAfter("later", now)).toBeNull();
  });
});
