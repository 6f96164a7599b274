// GET /api/tickets/:id/deliveries: the webhook deliveries of one ticket's events, through the real
// pipeline (mail posted raw, events fanned out to the endpoints that subscribe to them).
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "../../../src/db/client.ts";
import { webhookDeliveries } from "../../../src/db/schema.ts";
import { ticketDeliveriesQuery } from "../../../src/db/ticket-deliveries.ts";
import { buildEmail } from "../../helpers/build-email.ts";
import { createCompany, createSource, deliver } from "../../helpers/pipeline.ts";
import { createTestContext, type TestContext } from "../../helpers/test-context.ts";

let t: TestContext;
let sourceId: string;
let everything: { id: string; url: string };
let createdOnly: { id: string; url: string };

beforeAll(async () => {
  t = await createTestContext();
  await createCompany(t, "Acme", ["acme.com"]);
  sourceId = await createSource(t);
  // Nothing dispatches in this file: deliveries stay pending unless a test settles them.
  everything = (await t.api.post("/api/webhooks").send({ url: "http://127.0.0.1:9/all" }).expect(201)).body;
  createdOnly = (await t.api.post("/api/webhooks").send({ url: "http://127.0.0.1:9/created", events: ["ticket.created"] }).expect(201)).body;
});
afterAll(async () => t.close());

type Delivery = { id: string; eventType: string; endpointId: string; endpointUrl: string; status: string; nextAttemptAt: string | null };

describe("GET /api/tickets/:id/deliveries", () => {
  it("When a ticket is created and then answered, then its page lists the deliveries of both events to each endpoint that wants them, newest first, and no other ticket's", async () => {
    const created = await deliver(t, sourceId, buildEmail({ from: "john@acme.com", subject: "VPN down", messageId: "<vpn-1@acme.com>" }));
    const ticketId = created.ticketId!;
    const other = await deliver(t, sourceId, buildEmail({ from: "mary@acme.com", subject: "Printer jams" }));
    expect(other.status).toBe("ticket_created");
    const reply = await deliver(t, sourceId, buildEmail({ from: "john@acme.com", subject: "Re: VPN down", inReplyTo: "<vpn-1@acme.com>" }));
    expect(reply).toMatchObject({ status: "note_added", ticketId });

    const ticket = (await t.api.get(`/api/tickets/${ticketId}`).expect(200)).body;
    expect(ticket.messages.map((m: { inboundMessageId: string }) => m.inboundMessageId)).toEqual([created.id, reply.id]);

    const res = await t.api.get(`/api/tickets/${ticketId}/deliveries`).expect(200);
    const items = res.body.items as Delivery[];
    expect(res.body.nextCursor).toBeNull();
    expect(items.map((d) => [d.eventType, d.endpointUrl]).sort()).toEqual([
      ["ticket.created", everything.url],
      ["ticket.created", createdOnly.url],
      ["ticket.reply_received", everything.url],
    ]);
    expect(items[0]).toMatchObject({ eventType: "ticket.reply_received", endpointId: everything.id, status: "pending", attempts: 0, lastStatusCode: null, lastError: null });
    expect(items[0]!.nextAttemptAt).not.toBeNull();

    const others = (await t.api.get(`/api/tickets/${other.ticketId}/deliveries`).expect(200)).body.items as Delivery[];
    expect(others.map((d) => d.eventType)).toEqual(["ticket.created", "ticket.created"]);
  });

  it("When a delivery has succeeded, then it shows its status code and no next attempt; and the list pages by cursor", async () => {
    const created = await deliver(t, sourceId, buildEmail({ from: "john@acme.com", subject: "Mail quota" }));
    const all = (await t.api.get(`/api/tickets/${created.ticketId}/deliveries`).expect(200)).body.items as Delivery[];
    const now = new Date();
    await t.ctx.db.update(webhookDeliveries).set({ status: "succeeded", attempts: 1, lastStatusCode: 204, completedAt: now }).where(eq(webhookDeliveries.id, all[0]!.id));

    const first = await t.api.get(`/api/tickets/${created.ticketId}/deliveries?limit=1`).expect(200);
    expect(first.body.items).toEqual([expect.objectContaining({ id: all[0]!.id, status: "succeeded", attempts: 1, lastStatusCode: 204, nextAttemptAt: null, completedAt: now.toISOString() })]);
    const second = await t.api.get(`/api/tickets/${created.ticketId}/deliveries?limit=1&cursor=${first.body.nextCursor}`).expect(200);
    expect(second.body).toEqual({ items: [expect.objectContaining({ id: all[1]!.id })], nextCursor: null });
  });

  it("When a ticket has no events anyone subscribed to, then the list is empty; an unknown ticket is 404 and an unknown parameter 400", async () => {
    await t.api.patch(`/api/webhooks/${everything.id}`).send({ enabled: false }).expect(200);
    await t.api.patch(`/api/webhooks/${createdOnly.id}`).send({ enabled: false }).expect(200);
    const quiet = await deliver(t, sourceId, buildEmail({ from: "john@acme.com", subject: "Nobody listens" }));
    expect((await t.api.get(`/api/tickets/${quiet.ticketId}/deliveries`).expect(200)).body).toEqual({ items: [], nextCursor: null });
    await t.api.get("/api/tickets/00000000-0000-4000-8000-000000000000/deliveries").expect(404);
    const bad = await t.api.get(`/api/tickets/${quiet.ticketId}/deliveries?status=pending`).expect(400);
    expect(bad.body.error.details).toEqual([{ field: "status", message: "unknown field; remove it" }]);
    await t.anonymous.get(`/api/tickets/${quiet.ticketId}/deliveries`).expect(401);
  });

  it("When the planner may not scan the events table whole, then it finds a ticket's events through the events_ticket index", async () => {
    const query = ticketDeliveriesQuery(t.ctx.db, "5b0e7c3a-1f2d-4a8b-9c6e-0d4f8a2b7e15", { limit: 50 });
    const plan = await t.ctx.db.transaction(async (tx) => {
      await tx.execute(sql`set local enable_seqscan = off`);
      return JSON.stringify((await tx.execute(sql`explain ${query.getSQL()}`)) ?? null);
    });
    expect(plan).toContain("events_ticket");
  });
});
