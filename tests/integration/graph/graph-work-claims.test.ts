// Graph work is claimed several items at a time (graph-work-queue.ts): the oldest due first, with
// whether more is due, and an item given back is due again without counting as an attempt.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { queryRows, sql } from "../../../src/db/client.ts";
import { mailSources } from "../../../src/db/schema.ts";
import { createGraphWorker } from "../../../src/sources/graph/graph-work.ts";
import { claimGraphWork, GRAPH_LIFECYCLE, requestNotifiedFetches, requestRerunnable, returnGraphWork } from "../../../src/sources/graph/graph-work-queue.ts";
import { createTestContext, type TestContext } from "../../helpers/test-context.ts";

let t: TestContext;
let source: string;
// Far ahead of the real clock, so a worker (which claims at the real time) never sees these due.
const t0 = new Date("2100-01-01T08:00:00Z");
const lease = new Date(t0.getTime() + 300_000);

beforeEach(async () => {
  t = await createTestContext();
  const [row] = await t.ctx.db
    .insert(mailSources)
    .values({ kind: "graph", name: "m365", address: "desk@mailgate.test", role: "support", status: "connected" })
    .returning({ id: mailSources.id });
  source = row!.id;
  await requestNotifiedFetches(t.ctx.db, [{ sourceId: source, messageId: "AAA" }], new Date(t0.getTime() - 3));
  await requestRerunnable(t.ctx.db, { sourceId: source, kind: GRAPH_LIFECYCLE, key: "reauthorizationRequired:s1", now: new Date(t0.getTime() - 2) });
  await requestNotifiedFetches(t.ctx.db, [{ sourceId: source, messageId: "BBB" }], new Date(t0.getTime() - 1));
});
afterEach(async () => t.close());

describe("claiming Graph work", () => {
  it("When three items are due and a claim takes two, then it leases the two oldest and says more is due; the next claim takes the third", async () => {
    const first = await claimGraphWork(t.ctx.db, { now: t0, leaseUntil: lease, limit: 2 });
    expect(first.work.map((w) => w.key).sort()).toEqual(["AAA", "reauthorizationRequired:s1"]);
    expect(first.moreDue).toBe(true);
    const second = await claimGraphWork(t.ctx.db, { now: t0, leaseUntil: lease, limit: 2 });
    expect(second.work.map((w) => w.key)).toEqual(["BBB"]);
    expect(second.moreDue).toBe(false);
  });

  it("When the source's lifecycle work already runs here, then a claim takes its fetches only", async () => {
    const { work } = await claimGraphWork(t.ctx.db, { now: t0, leaseUntil: lease, busySources: [source], limit: 8 });
    expect(work.map((w) => w.key).sort()).toEqual(["AAA", "BBB"]);
  });

  it("When claimed work is given back, then it is due at once and the claim did not count as an attempt", async () => {
    const { work } = await claimGraphWork(t.ctx.db, { now: t0, leaseUntil: lease, limit: 8 });
    const lifecycle = work.filter((w) => w.kind === GRAPH_LIFECYCLE);
    await returnGraphWork(t.ctx.db, lifecycle, t0);
    const [row] = await queryRows<{ attempts: number; next_attempt_at: Date | string }>(
      t.ctx.db,
      sql`select attempts, next_attempt_at from sync_requests where kind = ${GRAPH_LIFECYCLE}`,
    );
    expect(row!.attempts).toBe(0);
    expect(new Date(row!.next_attempt_at).getTime()).toBe(t0.getTime());
    expect((await claimGraphWork(t.ctx.db, { now: t0, leaseUntil: lease, limit: 8 })).work.map((w) => w.key)).toEqual(["reauthorizationRequired:s1"]);
  });

  it("When a claim holds two lifecycle items of one source, then the worker runs one and gives the other back, due at once", async () => {
    const asked = new Date(Date.now() - 1000);
    for (const key of ["reauthorizationRequired:old-1", "subscriptionRemoved:old-2"]) {
      // Subscriptions already replaced: each item, when run, completes without calling Graph.
      await requestRerunnable(t.ctx.db, { sourceId: source, kind: GRAPH_LIFECYCLE, key, payload: { event: key.split(":")[0], externalId: key.split(":")[1] }, now: asked });
    }
    const stepStarted = Date.now();
    expect(await createGraphWorker(t.ctx).step()).toBe(true);
    const left = await queryRows<{ key: string; attempts: number; next_attempt_at: Date | string }>(
      t.ctx.db,
      sql`select key, attempts, next_attempt_at from sync_requests where kind = ${GRAPH_LIFECYCLE} and key like '%:old-%'`,
    );
    expect(left).toHaveLength(1);
    expect(left[0]!.attempts).toBe(0);
    expect(new Date(left[0]!.next_attempt_at).getTime()).toBeLessThanOrEqual(stepStarted + 1000);
  });
});
