// An endpoint changed while the dispatcher holds deliveries for it: claimed ahead (waiting for a
// free slot) they carry the endpoint as the claim read it, so a new URL, a disable or a rotated
// secret must send them back to be claimed anew; an endpoint deleted while one of its deliveries
// is on the wire must not cost the other endpoints' outcomes recorded in the same batch.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDispatcher } from "../../../src/delivery/dispatcher.ts";
import { recordEvent } from "../../../src/delivery/record-event.ts";
import { pgArray, queryRows, sql } from "../../../src/db/client.ts";
import { recordAttempts } from "../../../src/db/webhook-deliveries.ts";
import { webhookEndpoints } from "../../../src/db/schema.ts";
import { createTestContext, type TestContext } from "../../helpers/test-context.ts";
import { waitFor } from "../../helpers/wait-for.ts";

type Received = { headers: http.IncomingHttpHeaders; body: string };

/** A receiver that holds every request until `release()`, or answers at once when `held` is false. */
async function startReceiver(opts: { held: boolean }) {
  const received: Received[] = [];
  const waiting: Array<() => void> = [];
  let held = opts.held;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
      const answer = () => res.end("ok");
      if (held) waiting.push(answer);
      else answer();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`,
    received,
    waiting: () => waiting.length,
    release: () => {
      held = false;
      for (const answer of waiting.splice(0)) answer();
    },
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

let t: TestContext;
beforeAll(async () => {
  // One in flight per endpoint, one more claimed ahead: the change below finds one of each.
  t = await createTestContext({ env: { WEBHOOK_CONCURRENCY: "4", WEBHOOK_PER_ENDPOINT_CONCURRENCY: "1" } });
});
afterAll(async () => t.close());

const statusesOf = async (endpointId: string) =>
  queryRows<{ status: string; leased: boolean }>(
    t.ctx.db,
    sql`select status, leased_until is not null as leased from webhook_deliveries where endpoint_id = ${endpointId}::uuid order by created_at`,
  );

async function disableAll() {
  await t.ctx.db.update(webhookEndpoints).set({ enabled: false });
}

type Receiver = Awaited<ReturnType<typeof startReceiver>>;

/**
 * Runs `fn` while a dispatcher holds one of an endpoint's three deliveries on the wire (its
 * receiver does not answer yet) and one claimed ahead for the endpoint's only slot.
 */
async function whileClaimedAhead(fn: (s: { receiver: Receiver; endpointId: string }) => Promise<void>, others: Receiver[] = []) {
  const receiver = await startReceiver({ held: true });
  const endpoint = (await t.api.post("/api/webhooks").send({ url: receiver.url }).expect(201)).body as { id: string };
  for (let i = 0; i < 3; i++) await recordEvent(t.ctx.db, { type: "webhook.test", at: new Date(), companyId: null, data: { i } });
  const dispatcher = startDispatcher(t.ctx, { pollMs: 50 });
  try {
    await waitFor(() => receiver.waiting() === 1);
    await waitFor(async () => (await statusesOf(endpoint.id)).filter((d) => d.leased).length === 2);
    await fn({ receiver, endpointId: endpoint.id });
  } finally {
    await dispatcher.stop();
    await Promise.all([receiver, ...others].map((r) => r.close()));
    await disableAll();
  }
}

describe("endpoint changes while deliveries are claimed ahead", () => {
  it("When an endpoint's URL changes, then the deliveries not yet sent go to the new URL", async () => {
    const moved = await startReceiver({ held: false });
    await whileClaimedAhead(async ({ receiver: old, endpointId }) => {
      await t.api.patch(`/api/webhooks/${endpointId}`).send({ url: moved.url }).expect(200);
      // The one on the wire finishes where it started; it held the endpoint's only slot.
      old.release();
      await waitFor(async () => (await statusesOf(endpointId)).every((d) => d.status === "succeeded"));
      expect(old.received).toHaveLength(1);
      expect(moved.received).toHaveLength(2);
    }, [moved]);
  });

  it("When an endpoint is disabled, then no delivery claimed before is sent afterwards, and they wait pending, unleased", async () => {
    await whileClaimedAhead(async ({ receiver, endpointId }) => {
      await t.api.patch(`/api/webhooks/${endpointId}`).send({ enabled: false }).expect(200);
      await waitFor(async () => (await statusesOf(endpointId)).filter((d) => d.leased).length === 1);
      receiver.release();
      await waitFor(async () => (await statusesOf(endpointId)).filter((d) => d.status === "succeeded").length === 1);
      await new Promise((r) => setTimeout(r, 300));
      expect(receiver.received).toHaveLength(1);
      const rows = await statusesOf(endpointId);
      expect(rows.filter((d) => d.status === "pending" && !d.leased)).toHaveLength(2);
    });
  });

  it("When an endpoint's secret is rotated, then the deliveries not yet sent are signed with the new secret too", async () => {
    await whileClaimedAhead(async ({ receiver, endpointId }) => {
      const rotated = (await t.api.post(`/api/webhooks/${endpointId}/rotate-secret`).expect(200)).body as { secret: string };
      receiver.release();
      await waitFor(() => receiver.received.length === 3);
      const verifies = (r: Received, secret: string) => {
        try {
          new Webhook(secret).verify(r.body, r.headers as Record<string, string>);
          return true;
        } catch {
          return false;
        }
      };
      // The first was on the wire before the rotation; the two after it verify with the new secret.
      expect(receiver.received.slice(1).map((r) => verifies(r, rotated.secret))).toEqual([true, true]);
    });
  });

  it("When an endpoint is deleted while its delivery is on the wire, then another endpoint's outcomes in the same batch are still recorded", async () => {
    const doomed = await startReceiver({ held: true });
    const healthy = await startReceiver({ held: true });
    const doomedEndpoint = (await t.api.post("/api/webhooks").send({ url: doomed.url }).expect(201)).body as { id: string };
    const healthyEndpoint = (await t.api.post("/api/webhooks").send({ url: healthy.url }).expect(201)).body as { id: string };
    await recordEvent(t.ctx.db, { type: "webhook.test", at: new Date(), companyId: null, data: { i: 0 } });
    const dispatcher = startDispatcher(t.ctx, { pollMs: 50 });
    try {
      await waitFor(() => doomed.waiting() === 1 && healthy.waiting() === 1);
      await t.api.delete(`/api/webhooks/${doomedEndpoint.id}`).expect(204);
      // Both answer at once: their outcomes are recorded together.
      doomed.release();
      healthy.release();
      await waitFor(async () => (await statusesOf(healthyEndpoint.id))[0]?.status === "succeeded");
      const [row] = await statusesOf(healthyEndpoint.id);
      expect(row).toEqual({ status: "succeeded", leased: false });
    } finally {
      await dispatcher.stop();
      await Promise.all([doomed.close(), healthy.close()]);
      await disableAll();
    }
  });
});

describe("recording attempts", () => {
  it("When one of the deliveries was deleted meanwhile, then the others are recorded and the deleted one is skipped", async () => {
    const endpoint = (await t.api.post("/api/webhooks").send({ url: "http://127.0.0.1:9/hooks" }).expect(201)).body as { id: string };
    for (let i = 0; i < 2; i++) await recordEvent(t.ctx.db, { type: "webhook.test", at: new Date(), companyId: null, data: { i } });
    const ids = (await queryRows<{ id: string }>(t.ctx.db, sql`select id from webhook_deliveries where endpoint_id = ${endpoint.id}::uuid order by created_at`)).map(
      (r) => r.id,
    );
    expect(ids).toHaveLength(2);
    const now = new Date();
    const leasedUntil = new Date(now.getTime() + 30_000);
    await t.ctx.db.execute(sql`update webhook_deliveries set leased_until = ${leasedUntil.toISOString()}::timestamptz where id = any(${pgArray(ids)}::uuid[])`);
    await t.ctx.db.execute(sql`delete from webhook_deliveries where id = ${ids[0]!}::uuid`);
    await recordAttempts(
      t.ctx.db,
      ids.map((id) => ({ deliveryId: id, leasedUntil, attemptedAt: now, statusCode: 200, durationMs: 2, responseBody: "ok", error: null, status: "succeeded" as const, nextAttemptAt: null })),
      [endpoint.id],
    );
    const rows = await queryRows<{ status: string; attempts: number }>(
      t.ctx.db,
      sql`select d.status, (select count(*)::int from webhook_attempts a where a.delivery_id = d.id) as attempts from webhook_deliveries d where d.endpoint_id = ${endpoint.id}::uuid`,
    );
    expect(rows).toEqual([{ status: "succeeded", attempts: 1 }]);
    await disableAll();
  });
});
