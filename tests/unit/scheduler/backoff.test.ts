import { describe, expect, it } from "vitest";
import { exponentialMs, withJitter } from "../../../src/scheduler/backoff.ts";

describe("exponentialMs", () => {
  it("When attempts fail one after another, then the delay doubles from the first up to the cap", () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => exponentialMs(n, 1000, 10_000))).toEqual([1000, 2000, 4000, 8000, 10_000, 10_000]);
  });

  it("When the attempt number is 0, negative or very large, then the delay stays between the first and the cap", () => {
    expect(exponentialMs(0, 1000, 10_000)).toBe(1000);
    expect(exponentialMs(-3, 1000, 10_000)).toBe(1000);
    expect(exponentialMs(5000, 1000, 10_000)).toBe(10_000);
  });
});

describe("withJitter", () => {
  it("When the jitter is equal, then the delay lies between half and all of it", () => {
    expect(withJitter(1000, "equal", () => 0)).toBe(500);
    expect(withJitter(1000, "equal", () => 1)).toBe(1000);
  });

  it("When the jitter is a spread, then the delay moves by at most that share either way", () => {
    expect(withJitter(1000, { spread: 0.2 }, () => 0)).toBeCloseTo(800);
    expect(withJitter(1000, { spread: 0.2 }, () => 0.5)).toBeCloseTo(1000);
    expect(withJitter(1000, { spread: 0.2 }, () => 1)).toBeCloseTo(1200);
  });

  it("When the random source strays outside [0, 1], then the delay stays within its bounds", () => {
    expect(withJitter(1000, "equal", () => 7)).toBe(1000);
    expect(withJitter(1000, { spread: 0.25 }, () => -1)).toBeCloseTo(750);
  });
});
