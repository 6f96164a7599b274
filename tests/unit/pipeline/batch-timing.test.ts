import { describe, expect, it } from "vitest";
import { replyHoldMs, firstBatchSize, nextBatchSize } from "../../../src/pipeline/worker.ts";

const MiB = 1024 * 1024;

describe("replyHoldMs", () => {
  it("When a small reply waits for the mail it answers, then it is taken again after about one batch", () => {
    expect(replyHoldMs(0)).toBe(50);
    expect(replyHoldMs(4_000)).toBe(50);
  });

  it("When the waiting mail is large, then it waits longer, since each retry parses it again", () => {
    expect(replyHoldMs(4 * MiB)).toBe(150);
    expect(replyHoldMs(10 * MiB)).toBe(300);
  });

  it("When the waiting mail is huge, then it still waits no more than a second", () => {
    expect(replyHoldMs(40 * MiB)).toBe(1000);
    expect(replyHoldMs(500 * MiB)).toBe(1000);
  });
});

describe("nextBatchSize", () => {
  const max = 128;
  it("When a backlog waits, then the first claims are small and each full claim doubles the next, up to WORKER_BATCH_SIZE", () => {
    expect(firstBatchSize(max)).toBe(32);
    expect(nextBatchSize({ limit: 32, found: 32, max })).toBe(64);
    expect(nextBatchSize({ limit: 64, found: 64, max })).toBe(128);
    expect(nextBatchSize({ limit: 128, found: 128, max })).toBe(128);
  });

  it("When a claim comes back short, then the queue ran dry and the next claim is small again", () => {
    expect(nextBatchSize({ limit: 128, found: 5, max })).toBe(32);
    expect(nextBatchSize({ limit: 128, found: 0, max })).toBe(32);
  });

  it("When WORKER_BATCH_SIZE is below the first size, then every claim takes at most that many", () => {
    expect(firstBatchSize(8)).toBe(8);
    expect(nextBatchSize({ limit: 8, found: 8, max: 8 })).toBe(8);
    expect(nextBatchSize({ limit: 8, found: 2, max: 8 })).toBe(8);
  });

  it("When WORKER_BATCH_SIZE is lowered below a claim already grown, then the next claim keeps to it", () => {
    expect(nextBatchSize({ limit: 128, found: 128, max: 64 })).toBe(64);
  });
});
