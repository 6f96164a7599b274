// The dispatcher claims a little ahead of its free slots. What it claimed but did not send when it
// stops is given back at once (due now, not sent, not counted as an attempt), not left leased.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows, sql } from "../../../src/db/client.js";
import { startDispatcher } from "../../../src/delivery/dispatcher.js";
import { insertWebhookEndpoint } from "../../helpers/db-tables.js";
import { createTestContext, type TestContext } from "../../helpers/test-context.js";

let t: TestContext;
let server: http.Server;
const held: http.ServerResponse[] = [];

beforeAll(async () => {
  // One request at a time, to one endpoint that answers only when the test lets it.
  t = await createTestContext({ env: { WEBHOOK_CONCURRENCY: "1", WEBHOOK_PER_ENDPOINT_CONCURRENCY: "1" } });
  server = http.createServer((req, res) => {
    req.resume();
    req.on("end", () => held.push(res));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  const endpointId = await insertWebhookEndpoint(t, `http://127.0.0.1:${port}/hooks`);
  await t.ctx.db.execute(sql`insert into events (id, type, payload) select 'evt_q' || g, 'ticket.created', '{}'::jsonb from generate_series(1, 3) g`);
  await t.ctx.db.execute(
    sql`insert into webhook_deliveries (event_id, endpoint_id, next_attempt_at)
        select 'evt_q' || g, ${endpointId}::uuid, now() - make_interval(secs => 10 - g) from generate_series(1, 3) g`,
  );
});
afterAll(async () => {
  server.close();
  await t.close();
});

type Row = { event_id: string; status: string; attempts: number; due_now: boolean };

describe("the dispatcher's queue", () => {
  it("When it stops with a claimed delivery not yet sent, then that delivery is due again at once and was never attempted", async () => {
    const dispatcher = startDispatcher(t.ctx, { pollMs: 50 });
    await expect.poll(() => held.length, { timeout: 10_000 }).toBe(1);
    const stopping = dispatcher.stop();
    held.shift()!.end("ok"); // the one in flight finishes
    await stopping;
    const rows = await queryRows<Row>(
      t.ctx.db,
      sql`select event_id, status, attempts, (status = 'pending' and next_attempt_at <= now()) as due_now from webhook_deliveries order by event_id`,
    );
    // evt_q1 was sent; evt_q2 was claimed with it (one in flight, one queued) and given back;
    // evt_q3 was never claimed.
    expect(rows).toEqual([
      { event_id: "evt_q1", status: "succeeded", attempts: 1, due_now: false },
      { event_id: "evt_q2", status: "pending", attempts: 0, due_now: true },
      { event_id: "evt_q3", status: "pending", attempts: 0, due_now: true },
    ]);
    expect(held).toHaveLength(0);
  });
});
