import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { attemptAfterFailure, RECONNECT_BACKOFF, reconnectDelayMs } from "../../../src/sources/imap/reconnect-backoff.ts";

const randoms = fc.double({ min: 0, max: 1, noNaN: true });

describe("reconnectDelayMs", () => {
  it("doubles from 1 s and stops growing at a minute", () => {
    const top = () => 1;
    expect([1, 2, 3, 4, 5, 6, 7, 8, 20].map((a) => reconnectDelayMs(a, top))).toEqual([
      1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000, 60_000,
    ]);
  });

  it("jitters within the upper half of each step, so a dead server never makes it spin", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_000 }), randoms, (attempt, r) => {
        const step = Math.min(60_000, 1_000 * 2 ** Math.min(attempt - 1, 30));
        const delay = reconnectDelayMs(attempt, () => r);
        expect(delay).toBeGreaterThanOrEqual(step / 2);
        expect(delay).toBeLessThanOrEqual(step);
        expect(delay).toBeGreaterThanOrEqual(500);
      }),
    );
  });

  it("spreads sources that failed together over the step instead of retrying in step", () => {
    expect(reconnectDelayMs(4, () => 0)).toBe(4_000);
    expect(reconnectDelayMs(4, () => 0.999)).toBe(7_996);
  });
});

describe("attemptAfterFailure", () => {
  it("counts up while connections fail or drop quickly", () => {
    expect(attemptAfterFailure(0, null)).toBe(1);
    expect(attemptAfterFailure(3, null)).toBe(4);
    expect(attemptAfterFailure(3, RECONNECT_BACKOFF.stableAfterMs - 1)).toBe(4);
  });

  it("starts over after a connection that stayed up for the stable period", () => {
    expect(attemptAfterFailure(7, RECONNECT_BACKOFF.stableAfterMs)).toBe(1);
    expect(attemptAfterFailure(7, 3_600_000)).toBe(1);
  });
});
