import { describe, expect, it } from "vitest";
import { createGroupCommit } from "../../../src/db/group-commit.ts";

/** A write port the test answers by hand: each call waits until the test settles it. */
function handWrittenWrites() {
  const calls: { items: string[]; settle(outcome: Error | boolean[]): void }[] = [];
  const write = (items: string[]) =>
    new Promise<boolean[]>((resolve, reject) => {
      calls.push({ items, settle: (outcome) => (outcome instanceof Error ? reject(outcome) : resolve(outcome)) });
    });
  return { calls, write };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe("createGroupCommit", () => {
  it("When items without a weight wait beyond maxItems, then they go in batches of at most maxItems, each caller answered with its own outcome, and no afterCommit is needed", async () => {
    const writes = handWrittenWrites();
    const group = createGroupCommit({ write: writes.write }, { maxItems: 2 });
    const all = ["a", "b", "c", "d"].map((item) => group.submit(item));
    for (let i = 0; i < 3; i++) {
      writes.calls[i]!.settle(writes.calls[i]!.items.map((item) => item !== "c"));
      await turn();
    }
    expect(await Promise.all(all)).toEqual([true, true, false, true]);
    expect(writes.calls.map((c) => c.items)).toEqual([["a"], ["b", "c"], ["d"]]);
  });
});
