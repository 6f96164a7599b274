// When an idle dispatcher should look again: only deliveries it may claim count. A disabled
// endpoint's deliveries wait, pending, until it is re-enabled.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { sql } from "../../../src/db/client.ts";
import { webhookEndpoints } from "../../../src/db/schema.ts";
import { claimDueDeliveries, nextDueAt } from "../../../src/db/webhook-deliveries.ts";
import { insertWebhookEndpoint } from "../../helpers/db-tables.ts";
import { createTestContext, type TestContext } from "../../helpers/test-context.ts";

let t: TestContext;
let endpointId: string;
const overdue = new Date(Date.now() - 60_000);

beforeAll(async () => {
  t = await createTestContext();
  endpointId = await insertWebhookEndpoint(t);
  await t.ctx.db.execute(sql`insert into events (id, type, payload) values ('evt_next_due', 'ticket.created', '{}'::jsonb)`);
  await t.ctx.db.execute(
    sql`insert into webhook_deliveries (event_id, endpoint_id, next_attempt_at) values ('evt_next_due', ${endpointId}::uuid, ${overdue.toISOString()}::timestamptz)`,
  );
});
afterAll(async () => t.close());

describe("the next due delivery", () => {
  it("When an enabled endpoint has an overdue delivery, then it is the next due", async () => {
    expect((await nextDueAt(t.ctx.db))?.getTime()).toBe(overdue.getTime());
  });

  it("When that endpoint is disabled (a 410, or by hand), then nothing is due and the idle dispatcher sleeps its poll interval", async () => {
    await t.ctx.db.update(webhookEndpoints).set({ enabled: false }).where(eq(webhookEndpoints.id, endpointId));
    // Counted, it was always overdue: the dispatcher looked again every 5 ms, for as long as the endpoint stayed disabled.
    expect(await nextDueAt(t.ctx.db)).toBeNull();
    await t.ctx.db.update(webhookEndpoints).set({ enabled: true }).where(eq(webhookEndpoints.id, endpointId));
    expect((await nextDueAt(t.ctx.db))?.getTime()).toBe(overdue.getTime());
  });

  it("When another dispatcher holds the delivery's lease, then it is not claimed again and is next due when the lease runs out", async () => {
    const now = new Date();
    const leaseUntil = new Date(now.getTime() + 30_000);
    const claim = (at: Date) => claimDueDeliveries(t.ctx.db, { now: at, leaseUntil: new Date(at.getTime() + 30_000), batch: 10, perEndpoint: 10, saturated: [] });
    const first = await claimDueDeliveries(t.ctx.db, { now, leaseUntil, batch: 10, perEndpoint: 10, saturated: [] });
    expect(first.map((d) => d.eventId)).toEqual(["evt_next_due"]);
    expect(await claim(now)).toEqual([]);
    expect((await nextDueAt(t.ctx.db))?.getTime()).toBe(leaseUntil.getTime());
    // The holder crashed: once the lease has run out, the delivery is due again (at-least-once).
    const later = new Date(leaseUntil.getTime() + 1);
    expect((await claim(later)).map((d) => d.id)).toEqual(first.map((d) => d.id));
  });
});
