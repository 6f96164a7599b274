// The split of shards among instances: complete, disjoint, the same on every instance, balanced,
// and moving only what must move when an instance joins or leaves.
import { describe, expect, it } from "vitest";
import { assignShards, SHARDS, shardOf } from "../../../src/scheduler/shards.ts";

const members = ["host-a:101:aa", "host-b:202:bb", "host-c:303:cc"];
const split = (of: string[]) => new Map(of.map((m) => [m, assignShards(of, m)]));

describe("shard assignment", () => {
  it("When three instances each compute the split, then every shard goes to exactly one of them", () => {
    const all = [...split(members).values()].flat().sort((a, b) => a - b);
    expect(all).toEqual([...Array(SHARDS).keys()]);
  });

  it("When the members are listed in another order, then each instance still gets the same shards", () => {
    for (const m of members) expect(assignShards([...members].reverse(), m)).toEqual(assignShards(members, m));
  });

  it("When three instances share the shards, then each holds between a quarter and 42% of them", () => {
    for (const shards of split(members).values()) {
      expect(shards.length).toBeGreaterThan(SHARDS / 4);
      expect(shards.length).toBeLessThan(SHARDS * 0.42);
    }
  });

  it("When a fourth instance joins, then only the shards it wins move, and they come from the others", () => {
    const before = split(members);
    const joined = [...members, "host-d:404:dd"];
    const after = split(joined);
    for (const m of members) {
      const kept = after.get(m)!;
      expect(kept.every((s) => before.get(m)!.includes(s))).toBe(true);
    }
    const moved = after.get("host-d:404:dd")!.length;
    expect(moved).toBeGreaterThan(SHARDS / 8);
    expect(moved).toBeLessThan(SHARDS * 0.35);
  });

  it("When an instance leaves, then the others keep their own shards and share out its shards", () => {
    const before = split(members);
    const after = split(members.slice(0, 2));
    for (const m of members.slice(0, 2)) expect(after.get(m)!.filter((s) => before.get(m)!.includes(s))).toEqual(before.get(m));
    expect([...after.values()].flat().length).toBe(SHARDS);
  });

  it("When the only instance computes the split, then it holds every shard", () => {
    expect(assignShards(["solo"], "solo")).toHaveLength(SHARDS);
    expect(assignShards([], "solo")).toEqual([]);
  });

  it("When a source id is hashed, then its shard is stable and within range", () => {
    const id = "4f9d1c2e-8b7a-4c3d-9e2f-1a2b3c4d5e6f";
    expect(shardOf(id)).toBe(shardOf(id));
    const shards = new Set(Array.from({ length: 2000 }, (_, i) => shardOf(`source-${i}`)));
    expect(Math.min(...shards)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...shards)).toBeLessThan(SHARDS);
    expect(shards.size).toBeGreaterThan(SHARDS * 0.9);
  });
});
