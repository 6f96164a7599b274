// Batched updates (rows sent as one JSON parameter) find their rows by key, not by reading the
// whole table, even when the table has no statistics yet (a young install, a burst).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows, sql } from "../../../src/db/client.ts";
import { recordAttempts } from "../../../src/db/webhook-deliveries.ts";
import { insertWebhookEndpoint, rowsRead } from "../../helpers/db-tables.ts";
import { createTestContext, type TestContext } from "../../helpers/test-context.ts";

let t: TestContext;
const DELIVERIES = 20000;

beforeAll(async () => {
  t = await createTestContext();
  const endpointId = await insertWebhookEndpoint(t);
  await t.ctx.db.execute(sql`insert into events (id, type, payload) select 'evt_batch_' || g, 'ticket.created', '{}'::jsonb from generate_series(1, ${DELIVERIES}) g`);
  await t.ctx.db.execute(
    sql`insert into webhook_deliveries (event_id, endpoint_id) select 'evt_batch_' || g, ${endpointId}::uuid from generate_series(1, ${DELIVERIES}) g`,
  );
});
afterAll(async () => t.close());

describe("batched updates", () => {
  it("When 32 webhook attempts are recorded among 20,000 deliveries, then about 32 deliveries are read, not all of them", async () => {
    await t.ctx.db.transaction(async (tx) => {
      const now = new Date();
      const leasedUntil = new Date(now.getTime() + 30_000);
      // Leased as a claim leaves them: an outcome is written only under the attempt's lease.
      const ids = await queryRows<{ id: string }>(
        tx,
        sql`update webhook_deliveries set leased_until = ${leasedUntil.toISOString()}::timestamptz
             where id in (select id from webhook_deliveries order by created_at limit 32) returning id`,
      );
      const before = await rowsRead(tx, "webhook_deliveries");
      await recordAttempts(
        tx,
        ids.map(({ id }) => ({ deliveryId: id, leasedUntil, attemptedAt: now, statusCode: 200, durationMs: 3, responseBody: "ok", error: null, status: "succeeded" as const, nextAttemptAt: null })),
      );
      const read = (await rowsRead(tx, "webhook_deliveries")) - before;
      const [done] = await queryRows<{ n: number }>(tx, sql`select count(*)::int as n from webhook_deliveries where status = 'succeeded'`);
      expect(done?.n).toBe(32);
      // Joined to the JSON rows alone, the update read all 20,000 into a hash join.
      expect(read).toBeLessThan(200);
    });
  });
});
