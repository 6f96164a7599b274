// The renewal pass keeps its pace: however many subscriptions are due at once, one pass renews at
// most RENEWALS_PER_PASS of them, the most overdue first, and leaves the rest to the next pass.
import { afterAll, beforeAll, expect, it } from "vitest";
import { mailSources, pushSubscriptions } from "../../../src/db/schema.ts";
import { createRenewalBackoff, renewDueSubscriptions, RENEWALS_PER_PASS } from "../../../src/sources/renew-subscriptions.ts";
import { createTestContext, type TestContext } from "../../helpers/test-context.ts";

let t: TestContext;
beforeAll(async () => {
  t = await createTestContext();
});
afterAll(async () => t.close());

it("When 130 subscriptions are overdue at once, then one pass tries the 100 most overdue and the next pass the other 30", async () => {
  const [source] = await t.ctx.db
    .insert(mailSources)
    .values({ kind: "graph", name: "Pace", address: "pace@example.com", role: "system", status: "connected", config: {}, schedule: { mode: "continuous" } })
    .returning();
  const now = t.ctx.clock.now().getTime();
  const total = RENEWALS_PER_PASS + 30;
  // A provider no renewal is known for fails at once, without a network call: the pass's pace is what is tested.
  const rows = Array.from({ length: total }, (_, i) => ({
    sourceId: source!.id,
    provider: "pace-test",
    externalId: `pace-${i}`,
    createdAt: new Date(now - 10 * 86_400_000),
    lastRenewedAt: new Date(now - (3 + i) * 86_400_000),
    expiresAt: new Date(now + 86_400_000),
  }));
  await t.ctx.db.insert(pushSubscriptions).values(rows);

  const backoff = createRenewalBackoff();
  const first = await renewDueSubscriptions(t.ctx, backoff);
  expect(first).toHaveLength(RENEWALS_PER_PASS);
  const tried = await t.ctx.db.select({ id: pushSubscriptions.id, externalId: pushSubscriptions.externalId }).from(pushSubscriptions);
  const byId = new Map(tried.map((r) => [r.id, r.externalId]));
  const firstIndexes = first.map((o) => Number(byId.get(o.id)!.slice("pace-".length))).sort((a, b) => a - b);
  // The oldest renewals (highest index) are the most overdue.
  expect(firstIndexes[0]).toBe(30);

  // The 100 that failed wait out their backoff, so the next pass gets to the other 30.
  const second = await renewDueSubscriptions(t.ctx, backoff);
  expect(second.map((o) => Number(byId.get(o.id)!.slice("pace-".length))).sort((a, b) => a - b)).toEqual([...Array(30).keys()]);
});
