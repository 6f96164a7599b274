// A real receiver on loopback, the real dispatcher: signed deliveries, retries, 410, restarts.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDispatcher, type Dispatcher } from "../../../src/delivery/dispatcher.ts";
import { sql } from "../../../src/db/client.ts";
import { redeliver } from "../../../src/db/webhook-deliveries.ts";
import { buildEmail } from "../../helpers/build-email.ts";
import { createCompany, createSource, deliver } from "../../helpers/pipeline.ts";
import { createTestContext, type TestContext } from "../../helpers/test-context.ts";
import { waitFor } from "../../helpers/wait-for.ts";

type Received = { headers: http.IncomingHttpHeaders; body: string };

/** A receiver whose answers a test scripts: a list of status codes, then 200 forever. */
async function startReceiver(script: number[] = []) {
  const received: Received[] = [];
  const answers = [...script];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
      res.statusCode = answers.shift() ?? 200;
      res.end("ok");
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    port,
    received,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

let t: TestContext;
let sourceId: string;
beforeAll(async () => {
  // Two immediate retries, then 2 s apart: fast tests that still outlast a short outage.
  t = await createTestContext({ env: { WEBHOOK_RETRY_SCHEDULE: "0,0,0,2,2,2,2,2,2,2" } });
  sourceId = await createSource(t);
  await createCompany(t, "Acme Corporation", ["acme.com"]);
});
afterAll(async () => t.close());

async function withDispatcher<T>(fn: (d: Dispatcher) => Promise<T>): Promise<T> {
  const d = startDispatcher(t.ctx, { pollMs: 50 });
  try {
    return await fn(d);
  } finally {
    await d.stop();
  }
}

describe("webhook delivery", () => {
  it("When a ticket is created, then the endpoint receives a ticket.created that standardwebhooks verifies", async () => {
    const receiver = await startReceiver();
    const endpoint = (await t.api.post("/api/webhooks").send({ url: receiver.url, events: ["ticket.created"] }).expect(201)).body;
    expect(endpoint.secret).toMatch(/^whsec_/);
    try {
      await withDispatcher(async () => {
        const msg = await deliver(t, sourceId, buildEmail({ from: "john@acme.com", subject: "Signed" }));
        await waitFor(() => receiver.received.length >= 1);
        const [got] = receiver.received;
        const verified = new Webhook(endpoint.secret).verify(got!.body, got!.headers as Record<string, string>) as {
          type: string;
          data: { ticket: { id: string } };
        };
        expect(verified.type).toBe("ticket.created");
        expect(verified.data.ticket.id).toBe(msg.ticketId);
        expect(got!.headers["webhook-id"]).toMatch(/^evt_/);
      });
      const fetched = (await t.api.get(`/api/webhooks/${endpoint.id}`).expect(200)).body;
      expect(fetched.secret).toBeUndefined();
    } finally {
      await t.api.delete(`/api/webhooks/${endpoint.id}`).expect(204);
      await receiver.close();
    }
  });

  it("When the receiver fails twice then recovers, then there is exactly one success after three attempts with the same webhook-id", async () => {
    const receiver = await startReceiver([500, 503]);
    const endpoint = (await t.api.post("/api/webhooks").send({ url: receiver.url }).expect(201)).body;
    try {
      await withDispatcher(async () => {
        await t.api.post(`/api/webhooks/${endpoint.id}/test`).expect(202);
        await waitFor(async () => {
          const list = (await t.api.get(`/api/webhooks/${endpoint.id}/deliveries`).expect(200)).body.items;
          return list[0]?.status === "succeeded";
        });
      });
      expect(receiver.received).toHaveLength(3);
      expect(new Set(receiver.received.map((r) => r.headers["webhook-id"])).size).toBe(1);
      const [delivery] = (await t.api.get(`/api/webhooks/${endpoint.id}/deliveries`).expect(200)).body.items;
      expect(delivery.attempts).toBe(3);
      expect(delivery.attemptLog.map((a: { statusCode: number }) => a.statusCode).sort()).toEqual([200, 500, 503]);
    } finally {
      await t.api.delete(`/api/webhooks/${endpoint.id}`).expect(204);
      await receiver.close();
    }
  });

  it("When a failing receiver recovers, then the endpoint's failing-since mark (the 5-day rule's clock) is cleared", async () => {
    // Four failures (three immediate retries, then 2 s to wait), then 200.
    const receiver = await startReceiver([500, 500, 500, 500]);
    const endpoint = (await t.api.post("/api/webhooks").send({ url: receiver.url }).expect(201)).body;
    try {
      await withDispatcher(async () => {
        await t.api.post(`/api/webhooks/${endpoint.id}/test`).expect(202);
        await waitFor(async () => (await t.api.get(`/api/webhooks/${endpoint.id}`)).body.failingSince !== null);
        await waitFor(async () => (await t.api.get(`/api/webhooks/${endpoint.id}`)).body.failingSince === null);
      });
      expect(receiver.received).toHaveLength(5);
      const [delivery] = (await t.api.get(`/api/webhooks/${endpoint.id}/deliveries`).expect(200)).body.items;
      expect(delivery.status).toBe("succeeded");
    } finally {
      await t.api.delete(`/api/webhooks/${endpoint.id}`).expect(204);
      await receiver.close();
    }
  });

  it("When the receiver answers 410 Gone, then the endpoint is disabled with the reason", async () => {
    const receiver = await startReceiver([410]);
    const endpoint = (await t.api.post("/api/webhooks").send({ url: receiver.url }).expect(201)).body;
    try {
      await withDispatcher(async () => {
        await t.api.post(`/api/webhooks/${endpoint.id}/test`).expect(202);
        await waitFor(async () => (await t.api.get(`/api/webhooks/${endpoint.id}`)).body.enabled === false);
      });
      const after = (await t.api.get(`/api/webhooks/${endpoint.id}`).expect(200)).body;
      expect(after.disabledReason).toMatch(/410/);
    } finally {
      await t.api.delete(`/api/webhooks/${endpoint.id}`).expect(204);
      await receiver.close();
    }
  });

  it("When the receiver is down while mailgate restarts, then every event still arrives once it is back", async () => {
    const receiver = await startReceiver();
    const port = receiver.port;
    const endpoint = (await t.api.post("/api/webhooks").send({ url: receiver.url, events: ["ticket.created"] }).expect(201)).body;
    await receiver.close();
    try {
      // First "run": deliveries fail against a closed port.
      await withDispatcher(async () => {
        for (let i = 0; i < 3; i++) await deliver(t, sourceId, buildEmail({ from: "john@acme.com", subject: `while down ${i}` }));
        await waitFor(async () => {
          const items = (await t.api.get(`/api/webhooks/${endpoint.id}/deliveries`)).body.items as { attempts: number }[];
          return items.length === 3 && items.every((d) => d.attempts >= 1);
        });
      });
      // The receiver comes back on the same port; a new dispatcher (a restarted mailgate) drains the backlog.
      const back = http.createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on("data", (c: Buffer) => chunks.push(c));
        req.on("end", () => {
          got.push(req.headers["webhook-id"] as string);
          res.end("ok");
        });
      });
      const got: string[] = [];
      await new Promise<void>((r) => back.listen(port, "127.0.0.1", r));
      try {
        await withDispatcher(async () => {
          await waitFor(() => new Set(got).size === 3, 15_000);
        });
      } finally {
        await new Promise<void>((r) => back.close(() => r()));
      }
    } finally {
      await t.api.delete(`/api/webhooks/${endpoint.id}`).expect(204);
    }
  });

  it("When a delivery is redelivered, then it is sent again with the same webhook-id", async () => {
    const receiver = await startReceiver();
    const endpoint = (await t.api.post("/api/webhooks").send({ url: receiver.url }).expect(201)).body;
    try {
      await withDispatcher(async () => {
        const { deliveryId } = (await t.api.post(`/api/webhooks/${endpoint.id}/test`).expect(202)).body;
        await waitFor(() => receiver.received.length === 1);
        await t.api.post(`/api/webhook-deliveries/${deliveryId}/redeliver`).expect(202);
        await waitFor(() => receiver.received.length === 2);
      });
      expect(receiver.received[0]!.headers["webhook-id"]).toBe(receiver.received[1]!.headers["webhook-id"]);
    } finally {
      await t.api.delete(`/api/webhooks/${endpoint.id}`).expect(204);
      await receiver.close();
    }
  });

  it("When a delivery is redelivered while its attempt's outcome is being recorded, then the redelivery is not overwritten and it is sent again", async () => {
    let answerFirst = () => {};
    const firstAnswer = new Promise<void>((r) => (answerFirst = r));
    const received: string[] = [];
    const server = http.createServer((req, res) => {
      received.push(String(req.headers["webhook-id"]));
      req.resume();
      if (received.length === 1) void firstAnswer.then(() => res.end("ok"));
      else res.end("ok");
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
    const endpoint = (await t.api.post("/api/webhooks").send({ url }).expect(201)).body;
    const deliveryOf = async (id: string) =>
      ((await t.api.get(`/api/webhooks/${endpoint.id}/deliveries`).expect(200)).body.items as Array<{ id: string; status: string; attemptLog: unknown[] }>).find(
        (d) => d.id === id,
      )!;
    try {
      await withDispatcher(async () => {
        const { deliveryId } = (await t.api.post(`/api/webhooks/${endpoint.id}/test`).expect(202)).body;
        await waitFor(() => received.length === 1);
        // Holding the delivery's row, let the receiver answer, so the outcome waits for the row,
        // and redeliver in that window: the outcome is written after the redelivery.
        await t.ctx.db.transaction(async (tx) => {
          await tx.execute(sql`select id from webhook_deliveries where id = ${deliveryId}::uuid for update`);
          answerFirst();
          await new Promise((r) => setTimeout(r, 300));
          await redeliver(tx, deliveryId, new Date());
        });
        await waitFor(() => received.length === 2);
        await waitFor(async () => {
          const d = await deliveryOf(deliveryId);
          return d.status === "succeeded" && d.attemptLog.length === 2;
        });
      });
      expect(received[1]).toBe(received[0]);
    } finally {
      await t.api.delete(`/api/webhooks/${endpoint.id}`).expect(204);
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it("When the secret is rotated, then deliveries verify with the new and the old secret for a day", async () => {
    const receiver = await startReceiver();
    const endpoint = (await t.api.post("/api/webhooks").send({ url: receiver.url }).expect(201)).body;
    try {
      const rotated = (await t.api.post(`/api/webhooks/${endpoint.id}/rotate-secret`).expect(200)).body;
      expect(rotated.secret).not.toBe(endpoint.secret);
      await withDispatcher(async () => {
        await t.api.post(`/api/webhooks/${endpoint.id}/test`).expect(202);
        await waitFor(() => receiver.received.length === 1);
      });
      const [got] = receiver.received;
      for (const secret of [endpoint.secret, rotated.secret]) {
        expect(() => new Webhook(secret).verify(got!.body, got!.headers as Record<string, string>)).not.toThrow();
      }
    } finally {
      await t.api.delete(`/api/webhooks/${endpoint.id}`).expect(204);
      await receiver.close();
    }
  });
});

describe("webhook endpoints API", () => {
  it("When the body has an unknown field or an unknown event type, then the API answers 400 naming it", async () => {
    const res = await t.api.post("/api/webhooks").send({ url: "http://127.0.0.1:9/x", colour: "red" }).expect(400);
    expect(res.body.error.details[0].field).toBe("colour");
    const bad = await t.api.post("/api/webhooks").send({ url: "http://127.0.0.1:9/x", events: ["ticket.exploded"] }).expect(400);
    expect(JSON.stringify(bad.body.error.details)).toContain("events");
  });

  it("When private networks are not allowed, then a loopback URL is refused with what to set", async () => {
    const strict = await createTestContext({ env: { WEBHOOK_ALLOW_PRIVATE_NETWORKS: "false", WEBHOOK_ALLOW_HTTP: "false" } });
    try {
      const http = await strict.api.post("/api/webhooks").send({ url: "http://example.com/hook" }).expect(400);
      expect(http.body.error.message).toMatch(/https/i);
      const loop = await strict.api.post("/api/webhooks").send({ url: "https://127.0.0.1/hook" }).expect(400);
      expect(loop.body.error.message).toContain("WEBHOOK_ALLOW_PRIVATE_NETWORKS");
    } finally {
      await strict.close();
    }
  });

  it("When an unknown endpoint or delivery is named, then the API answers 404", async () => {
    await t.api.get("/api/webhooks/00000000-0000-4000-8000-000000000000").expect(404);
    await t.api.post("/api/webhook-deliveries/00000000-0000-4000-8000-000000000000/redeliver").expect(404);
    await t.anonymous.get("/api/webhooks").expect(401);
  });
});
