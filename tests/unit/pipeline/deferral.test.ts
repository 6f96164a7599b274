import { describe, expect, it } from "vitest";
import { deferralMs } from "../../../src/pipeline/worker.js";

const MiB = 1024 * 1024;

describe("deferralMs", () => {
  it("When a small reply waits for the mail it answers, then it is taken again after about one batch", () => {
    expect(deferralMs(0)).toBe(50);
    expect(deferralMs(4_000)).toBe(50);
  });

  it("When the waiting mail is large, then it waits longer, since each retry parses it again", () => {
    expect(deferralMs(4 * MiB)).toBe(150);
    expect(deferralMs(10 * MiB)).toBe(300);
  });

  it("When the waiting mail is huge, then it still waits no more than a second", () => {
    expect(deferralMs(40 * MiB)).toBe(1000);
    expect(deferralMs(500 * MiB)).toBe(1000);
  });
});
