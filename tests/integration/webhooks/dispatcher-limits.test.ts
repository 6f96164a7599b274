// The dispatcher's limits with real receivers on loopback: a slow endpoint never has more than
// its own limit in flight and cannot hold up a fast one; deliveries claimed ahead and not sent
// when the dispatcher stops are given back at once.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDispatcher } from "../../../src/delivery/dispatcher.ts";
import { recordEvent } from "../../../src/delivery/record-event.ts";
import { generateWebhookSecret } from "../../../src/delivery/sign-webhook.ts";
import { queryRows, sql } from "../../../src/db/client.ts";
import { webhookEndpoints } from "../../../src/db/schema.ts";
import { createTestContext, type TestContext } from "../../helpers/test-context.ts";
import { waitFor } from "../../helpers/wait-for.ts";

/** Answers 200 after `delayMs`; counts requests and the most it had open at once. */
async function startReceiver(delayMs: number) {
  const state = { received: 0, open: 0, mostOpen: 0 };
  const server = http.createServer((req, res) => {
    state.open++;
    state.mostOpen = Math.max(state.mostOpen, state.open);
    req.resume();
    req.on("end", () => {
      setTimeout(() => {
        state.received++;
        state.open--;
        res.end("ok");
      }, delayMs);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`,
    state,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

let t: TestContext;
beforeAll(async () => {
  t = await createTestContext({ env: { WEBHOOK_CONCURRENCY: "6", WEBHOOK_PER_ENDPOINT_CONCURRENCY: "2" } });
});
afterAll(async () => t.close());

const addEndpoint = async (url: string) => {
  const [row] = await t.ctx.db.insert(webhookEndpoints).values({ url, secret: t.ctx.secrets.seal(generateWebhookSecret()) }).returning({ id: webhookEndpoints.id });
  return row!.id;
};
const pendingOf = async (endpointId: string) =>
  (await queryRows<{ n: number }>(t.ctx.db, sql`select count(*)::int as n from webhook_deliveries where endpoint_id = ${endpointId}::uuid and status = 'pending'`))[0]!.n;

describe("dispatcher limits", () => {
  it("When one endpoint is slow, then it has at most its own limit in flight and a fast endpoint's deliveries all arrive meanwhile", async () => {
    const slow = await startReceiver(1500);
    const fast = await startReceiver(0);
    const slowId = await addEndpoint(slow.url);
    const fastId = await addEndpoint(fast.url);
    for (let i = 0; i < 30; i++) await recordEvent(t.ctx.db, { type: "webhook.test", at: new Date(), companyId: null, data: { i } });
    const dispatcher = startDispatcher(t.ctx, { pollMs: 50 });
    try {
      await waitFor(() => fast.state.received === 30, 15_000);
      // The slow endpoint holds two of the six slots, 1.5 s each: the fast one is done before
      // the slow one's first answer (had the slow one taken every slot, it would wait for them).
      expect(slow.state.received).toBe(0);
      expect(slow.state.mostOpen).toBeLessThanOrEqual(2);
      expect(fast.state.mostOpen).toBeLessThanOrEqual(2);
    } finally {
      await dispatcher.stop();
      await Promise.all([slow.close(), fast.close()]);
      await t.ctx.db.update(webhookEndpoints).set({ enabled: false });
    }
    expect(await pendingOf(fastId)).toBe(0);
    expect(await pendingOf(slowId)).toBeGreaterThan(0);
  });

  it("When the dispatcher stops with deliveries claimed ahead and not sent, then they are released at once, not when the lease ends", async () => {
    const slow = await startReceiver(300);
    const slowId = await addEndpoint(slow.url);
    for (let i = 0; i < 10; i++) await recordEvent(t.ctx.db, { type: "webhook.test", at: new Date(), companyId: null, data: { i } });
    const dispatcher = startDispatcher(t.ctx, { pollMs: 50 });
    try {
      await waitFor(() => slow.state.open === 2);
    } finally {
      await dispatcher.stop();
      await slow.close();
    }
    const rows = await queryRows<{ leased: number; pending: number }>(
      t.ctx.db,
      sql`select count(*) filter (where leased_until is not null)::int as leased, count(*) filter (where status = 'pending')::int as pending
            from webhook_deliveries where endpoint_id = ${slowId}::uuid`,
    );
    // The two in flight were recorded (their answers came); the rest are due again for any instance.
    expect(rows[0]!.pending).toBeGreaterThan(0);
    expect(rows[0]!.leased).toBe(0);
  });
});
