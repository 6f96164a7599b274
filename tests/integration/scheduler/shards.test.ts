// Shard leases on a real database: instances that share it split the shards between them without
// overlap, hand shards over as instances join and leave, stop their work on a shard before its
// lease is released, and wait while an earlier version holds the whole kind.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { acquireLease, releaseLease } from "../../../src/scheduler/leases.ts";
import { runSharded, SHARDS, type Sharded } from "../../../src/scheduler/shards.ts";
import { createTestContext, createTestDatabase, usingPostgres, type TestContext } from "../../helpers/test-context.ts";
import { startCuttableProxy, type CuttableProxy } from "../../helpers/cuttable-proxy.ts";
import { waitFor } from "../imap/imap-fixture.ts";

let t: TestContext;
beforeAll(async () => {
  t = await createTestContext();
});
afterAll(async () => t.close());

/** Who works on each shard right now, as the instances' onChange calls say; a second worker on a shard is recorded. */
function workBook() {
  const workingOn = new Map<number, string>();
  const overlaps: string[] = [];
  const instance = (name: string, opts: { stopDelayMs?: number; wholeLease?: string } = {}): Sharded =>
    runSharded(t.ctx, {
      name: "test:shards",
      holder: name,
      renewMs: 50,
      ttlMs: 400,
      wholeLease: opts.wholeLease,
      onChange: async (owned) => {
        const giveUp = [...workingOn].filter(([s, who]) => who === name && !owned.has(s)).map(([s]) => s);
        if (giveUp.length > 0) await new Promise((r) => setTimeout(r, opts.stopDelayMs ?? 0)); // stopping takes a while
        for (const s of giveUp) workingOn.delete(s);
        for (const s of owned) {
          const other = workingOn.get(s);
          if (other !== undefined && other !== name) overlaps.push(`shard ${s}: ${name} while ${other}`);
          workingOn.set(s, name);
        }
      },
    });
  return { instance, workingOn, overlaps };
}

const sizes = (all: Sharded[]) => all.map((s) => s.owned().size);

describe("shard leases", () => {
  it("When instances join one by one and one stops, then the shards are always held by one instance each and end up split among the live ones", async () => {
    const book = workBook();
    const a = book.instance("a", { stopDelayMs: 30 });
    await waitFor("a to hold every shard", async () => a.owned().size === SHARDS, 5_000);

    const b = book.instance("b", { stopDelayMs: 30 });
    const c = book.instance("c", { stopDelayMs: 30 });
    const all = [a, b, c];
    await waitFor("the three to split the shards", async () => {
      const s = sizes(all);
      return s.every((n) => n > SHARDS / 4) && s.reduce((x, y) => x + y, 0) === SHARDS;
    }, 10_000);
    expect(book.workingOn.size).toBe(SHARDS);

    await c.stop();
    await waitFor("a and b to take c's shards", async () => a.owned().size + b.owned().size === SHARDS, 10_000);
    expect(c.owned().size).toBe(0);
    expect(book.overlaps).toEqual([]);
    await Promise.all([a.stop(), b.stop()]);
    expect(book.workingOn.size).toBe(0);
    expect(await t.ctx.db.$count((await import("../../../src/db/schema.ts")).leases)).toBe(0);
  });

  it("When an instance of an earlier version holds the whole IMAP lease, then no shard is taken until it lets go", async () => {
    const book = workBook();
    const old = "old-version:1:aa";
    expect(await acquireLease(t.ctx.db, "test:whole", old, new Date(), 60_000)).toBe(true);
    const fresh = book.instance("new", { wholeLease: "test:whole" });
    await new Promise((r) => setTimeout(r, 300));
    expect(fresh.owned().size).toBe(0);
    await releaseLease(t.ctx.db, "test:whole", old);
    await waitFor("the new version to take the shards", async () => fresh.owned().size === SHARDS, 5_000);
    await fresh.stop();
  });
});

describe.runIf(usingPostgres())("shard leases when the database goes away", () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let proxy: CuttableProxy;
  let cutOff: TestContext;

  beforeAll(async () => {
    database = await createTestDatabase();
    proxy = await startCuttableProxy(new URL(database.url!));
    cutOff = await createTestContext({ databaseUrl: proxy.url });
  });
  afterAll(async () => {
    await cutOff?.close();
    proxy?.close();
    await database?.drop();
  });

  it("When the database is cut for less than the lease time, then the shards are kept; when longer, their work stops before the leases run out, and resumes once it is back", async () => {
    const changes: { at: number; size: number }[] = [];
    const ttlMs = 1_500;
    const sharded = runSharded(cutOff.ctx, {
      name: "test:outage",
      holder: "only",
      renewMs: 100,
      ttlMs,
      onChange: async (owned) => void changes.push({ at: Date.now(), size: owned.size }),
    });
    await waitFor("every shard", async () => sharded.owned().size === SHARDS, 10_000);

    proxy.cut();
    await new Promise((r) => setTimeout(r, ttlMs / 3));
    expect(sharded.owned().size).toBe(SHARDS); // a blip: the leases still hold, the work goes on
    const cutAt = Date.now();
    await waitFor("the work to stop", async () => sharded.owned().size === 0, 10_000);
    expect(Date.now() - cutAt + ttlMs / 3).toBeLessThan(ttlMs);

    proxy.restore();
    await waitFor("every shard again", async () => sharded.owned().size === SHARDS, 30_000);
    await sharded.stop();
    expect(changes.map((c) => c.size)).toEqual([SHARDS, 0, SHARDS, 0]);
  }, 60_000);

  it("When the database stops answering without an error, then the work on the shards still stops before the leases run out", async () => {
    const ttlMs = 1_500;
    const sharded = runSharded(cutOff.ctx, { name: "test:frozen", holder: "only", renewMs: 100, ttlMs, onChange: async () => {} });
    await waitFor("every shard", async () => sharded.owned().size === SHARDS, 10_000);
    proxy.freeze();
    const frozenAt = Date.now();
    await waitFor("the work to stop", async () => sharded.owned().size === 0, 10_000);
    expect(Date.now() - frozenAt).toBeLessThan(ttlMs);
    proxy.restore();
    await waitFor("every shard again", async () => sharded.owned().size === SHARDS, 30_000);
    await sharded.stop();
  }, 60_000);
});
