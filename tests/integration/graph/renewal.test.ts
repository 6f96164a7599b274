// The renewal scheduler: every push subscription is renewed well before it expires; an expired
// one is re-created; a source that leaves continuous mode gives its subscription up.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { pushSubscriptions } from "../../../src/db/schema.ts";
import { startGraphHarness, waitFor, type GraphHarness } from "./graph-harness.ts";

let h: GraphHarness;
let sourceId: string;

beforeAll(async () => {
  h = await startGraphHarness();
  sourceId = await h.createGraphSource();
  await h.authorize(sourceId);
  h.startRuntime();
});
afterAll(async () => h.close());

const patches = () => h.fake.requests.filter((r) => r.method === "PATCH").length;

describe("the renewal scheduler", () => {
  it("When a subscription was renewed less than a day ago, then it is left alone", async () => {
    const before = patches();
    await new Promise((r) => setTimeout(r, 600));
    expect(patches()).toBe(before);
  });

  it("When a day has passed since the last renewal, then it is renewed days before it would expire", async () => {
    const row = (await h.subscriptionOf(sourceId))!;
    const dayAgo = new Date(Date.now() - 25 * 60 * 60_000);
    await h.t.ctx.db.update(pushSubscriptions).set({ lastRenewedAt: dayAgo }).where(eq(pushSubscriptions.id, row.id));
    await waitFor(async () => (await h.subscriptionOf(sourceId))!.lastRenewedAt!.getTime() > dayAgo.getTime(), "the scheduled renewal");
    const renewed = (await h.subscriptionOf(sourceId))!;
    expect(renewed.externalId).toBe(row.externalId);
    expect(renewed.expiresAt!.toISOString()).toBe(h.fake.subscriptions.all.get(row.externalId)!.expirationDateTime);
  });

  it("When a subscription has expired, then the scheduler creates a new one", async () => {
    const row = (await h.subscriptionOf(sourceId))!;
    await h.t.ctx.db.update(pushSubscriptions).set({ expiresAt: new Date(Date.now() - 1000) }).where(eq(pushSubscriptions.id, row.id));
    h.fake.subscriptions.all.delete(row.externalId);
    await waitFor(async () => (await h.subscriptionOf(sourceId))!.externalId !== row.externalId, "a re-created subscription");
    expect(h.fake.subscriptions.live((await h.subscriptionOf(sourceId))!.externalId)).toBeDefined();
  });

  it("When the source switches to manual mode, then its subscription is deleted at Graph and here", async () => {
    const row = (await h.subscriptionOf(sourceId))!;
    await h.t.api.patch(`/api/sources/${sourceId}`).send({ schedule: { mode: "manual" } }).expect(200);
    await waitFor(async () => (await h.subscriptionOf(sourceId)) === undefined, "the subscription to be given up");
    expect(h.fake.subscriptions.all.has(row.externalId)).toBe(false);
  });

  it("When a source is deleted, then its subscription is deleted at Graph before the answer", async () => {
    const other = await h.createGraphSource();
    await h.authorize(other);
    await waitFor(async () => (await h.subscriptionOf(other)) !== undefined, "the new source's subscription");
    const row = (await h.subscriptionOf(other))!;
    expect(h.fake.subscriptions.all.has(row.externalId)).toBe(true);
    await h.t.api.delete(`/api/sources/${other}`).expect(204);
    expect(h.fake.subscriptions.all.has(row.externalId)).toBe(false);
  });
});
