// The outbox works a claim at a time: many due messages are claimed together, the
// acknowledgements among them built and stored together, sent side by side, and their outcomes
// written together; each message still gets its own bytes, its own outcome and its own event,
// once. A sender that stops gives back what it claimed ahead and did not start.
import { and, eq, inArray } from "drizzle-orm";
import { simpleParser } from "mailparser";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { events, outboundMessages, ticketMessages } from "../../../src/db/schema.ts";
import { sendDue, startOutboxSender } from "../../../src/outbound/outbox-sender.ts";
import { buildEmail } from "../../helpers/build-email.ts";
import { createCompany, createSource, deliver, drainPipeline, postRaw } from "../../helpers/pipeline.ts";
import { giveSmtpBlock } from "../../helpers/smtp-block.ts";
import { startFakeSmtp, type FakeSmtp } from "../../fakes/smtp/smtp-server.ts";
import { createTestContext, type TestContext } from "../../helpers/test-context.ts";
import { waitFor } from "../../helpers/wait-for.ts";

/** Every SMTP answer to DATA waits this long: the sender's slots stay busy while more is due. */
const SLOW_DATA_MS = 150;

let t: TestContext;
let smtp: FakeSmtp;
let sourceId: string;

beforeAll(async () => {
  t = await createTestContext({ env: { OUTBOUND_CONCURRENCY: "2" } });
  smtp = await startFakeSmtp({ plain: true });
  await createCompany(t, "Acme", ["acme.com"]);
  sourceId = await createSource(t, { name: "MSP Support" });
  await giveSmtpBlock(t, sourceId, smtp);
  await t.api.put("/api/settings").send({ acknowledgement: { enabled: true, subject: "{{ticket.subject}}", text: "Ticket {{ticket.number}} is open." } }).expect(200);
});

afterAll(async () => {
  await smtp.close();
  await t.close();
});

beforeEach(() => {
  smtp.received.length = 0;
  smtp.delayData(0);
});

/** New tickets from `n` senders of their own, processed by the pipeline: each queues an acknowledgement. */
async function newTickets(prefix: string, n: number): Promise<string[]> {
  for (let i = 0; i < n; i++) await postRaw(t, sourceId, buildEmail({ from: `${prefix}${i}@acme.com`, subject: `${prefix} ${i}` }));
  await drainPipeline(t);
  const rows = await t.ctx.db.select().from(outboundMessages).where(eq(outboundMessages.kind, "acknowledgement"));
  return rows.filter((r) => r.recipient.startsWith(prefix)).map((r) => r.id);
}

const rowsOf = (ids: string[]) => t.ctx.db.select().from(outboundMessages).where(inArray(outboundMessages.id, ids));

describe("one claim of many messages", () => {
  it("When twelve acknowledgements are due at once, then one claim builds, sends and records each once, with its own Message-ID, ticket message and message.sent event", async () => {
    const ids = await newTickets("batch", 12);
    expect(ids).toHaveLength(12);

    expect(await sendDue(t.ctx, { limit: 50 })).toBe(12);

    expect(smtp.received).toHaveLength(12);
    const parsed = await Promise.all(smtp.received.map((m) => simpleParser(m.raw)));
    expect(new Set(parsed.map((p) => p.messageId)).size).toBe(12);
    expect(smtp.received.map((m) => m.to[0]).sort()).toEqual(Array.from({ length: 12 }, (_, i) => `batch${i}@acme.com`).sort());
    for (const p of parsed) expect(p.text).toMatch(/^Ticket \d+ is open\./);

    const rows = await rowsOf(ids);
    expect(rows.every((r) => r.status === "sent" && r.attempts === 1 && r.leasedUntil === null && r.messageId !== null)).toBe(true);
    const sentEvents = await t.ctx.db.select().from(events).where(eq(events.type, "message.sent"));
    const eventFor = new Map(sentEvents.map((e) => [(e.payload as { data: { message: { id: string } } }).data.message.id, e]));
    expect(ids.every((id) => eventFor.has(id))).toBe(true);
    const onTickets = await t.ctx.db
      .select()
      .from(ticketMessages)
      .where(and(inArray(ticketMessages.outboundMessageId, ids), eq(ticketMessages.direction, "outbound")));
    expect(onTickets).toHaveLength(12);
    expect(await sendDue(t.ctx, { limit: 50 })).toBe(0);
  });

  it("When one claim holds a reply, an acknowledgement and a reply to a refused address, then each gets its own outcome and event", async () => {
    const first = await deliver(t, sourceId, buildEmail({ from: "refused@acme.com", subject: "Refused reply" }));
    const second = await deliver(t, sourceId, buildEmail({ from: "kept@acme.com", subject: "Kept reply" }));
    // Their own acknowledgements go first, so that the claim below holds the three in question.
    expect(await sendDue(t.ctx, { limit: 50 })).toBe(2);
    const [ack] = await newTickets("mixed", 1);
    smtp.refuse("refused@acme.com", 550, "5.1.1 No such user here");
    const refused = (await t.api.post(`/api/tickets/${first.ticketId}/replies`).send({ text: "We are on it." }).expect(202)).body.id as string;
    const kept = (await t.api.post(`/api/tickets/${second.ticketId}/replies`).send({ text: "Fixed it." }).expect(202)).body.id as string;
    smtp.received.length = 0;

    expect(await sendDue(t.ctx, { limit: 50 })).toBe(3);

    const byId = new Map((await rowsOf([ack!, refused, kept])).map((r) => [r.id, r]));
    expect(byId.get(ack!)).toMatchObject({ status: "sent", attempts: 1 });
    expect(byId.get(kept)).toMatchObject({ status: "sent", attempts: 1 });
    expect(byId.get(refused)).toMatchObject({ status: "failed", attempts: 1, lastError: expect.stringContaining("5.1.1 No such user here") });
    const failed = await t.ctx.db.select().from(events).where(eq(events.type, "message.failed"));
    expect(failed.map((e) => (e.payload as { data: { message: { id: string } } }).data.message.id)).toContain(refused);
    expect(smtp.received.map((m) => m.to[0]).sort()).toEqual(["kept@acme.com", "mixed0@acme.com"]);
  });
});

describe("the running sender", () => {
  it("When more is due than it has slots, then it sends every message once, and a stop gives back what it claimed ahead", async () => {
    const ids = await newTickets("backlog", 10);
    smtp.delayData(SLOW_DATA_MS);
    const sender = startOutboxSender(t.ctx);
    t.ctx.database.wake("outbound");
    await waitFor(() => smtp.received.length >= 2);
    await sender.stop();

    // Stopped mid-backlog: what was sent is recorded, and nothing else is left leased.
    const afterStop = await rowsOf(ids);
    const sentBeforeStop = afterStop.filter((r) => r.status === "sent").length;
    expect(sentBeforeStop).toBe(smtp.received.length);
    expect(sentBeforeStop).toBeLessThan(10);
    expect(afterStop.filter((r) => r.status !== "sent").every((r) => r.leasedUntil === null)).toBe(true);

    smtp.delayData(0);
    const again = startOutboxSender(t.ctx);
    t.ctx.database.wake("outbound");
    await waitFor(async () => (await rowsOf(ids)).every((r) => r.status === "sent"));
    await again.stop();
    expect(smtp.received).toHaveLength(10);
    expect(new Set(smtp.received.map((m) => m.to[0])).size).toBe(10);
    expect((await rowsOf(ids)).every((r) => r.attempts === 1)).toBe(true);
  });
});
