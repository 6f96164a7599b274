// Replies from techs through POST /api/tickets/:id/replies: queued durably, sent through the
// source's SMTP server (smtp-server on loopback), threaded so the customer's answer comes back
// to the same ticket, with every attempt and the provider's words on the outbound message.
import { eq } from "drizzle-orm";
import { simpleParser } from "mailparser";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { events, mailSources, outboundMessages } from "../../../src/db/schema.ts";
import { envelopeSchema } from "../../../src/delivery/event-types.ts";
import { sendNext } from "../../../src/outbound/outbox-sender.ts";
import { buildEmail } from "../../helpers/build-email.ts";
import { createCompany, createSource, deliver } from "../../helpers/pipeline.ts";
import { giveSmtpBlock } from "../../helpers/smtp-block.ts";
import { startFakeSmtp, type FakeSmtp } from "../../fakes/smtp/smtp-server.ts";
import { createTestContext, type TestContext } from "../../helpers/test-context.ts";

let t: TestContext;
let smtp: FakeSmtp;
let sourceId: string;
const MAX_MESSAGE_BYTES = 64 * 1024;

beforeAll(async () => {
  t = await createTestContext({ env: { MAX_MESSAGE_BYTES: String(MAX_MESSAGE_BYTES) } });
  smtp = await startFakeSmtp({ plain: true });
  await createCompany(t, "Acme", ["acme.com"]);
  sourceId = await createSource(t, { name: "MSP Support" });
  await giveSmtpBlock(t, sourceId, smtp);
});

afterAll(async () => {
  await smtp.close();
  await t.close();
});

beforeEach(() => {
  smtp.received.length = 0;
});

async function newTicket(subject = "Printer is broken", messageId = `<${subject.replace(/\W/g, "")}.${Date.now()}@acme.com>`) {
  const inbound = await deliver(t, sourceId, buildEmail({ from: "John Smith <john@acme.com>", subject, messageId }));
  expect(inbound.status).toBe("ticket_created");
  return { ticketId: inbound.ticketId!, messageId };
}

async function sendAll(): Promise<number> {
  let n = 0;
  while (await sendNext(t.ctx)) n++;
  return n;
}

describe("a tech's reply", () => {
  it("goes out from the source's address to the contact, in the ticket's thread, and is shown on the ticket", async () => {
    const { ticketId, messageId } = await newTicket();
    const res = await t.api.post(`/api/tickets/${ticketId}/replies`).send({ text: "We replaced the toner.", cc: ["boss@acme.com"], bcc: ["audit@msp.example"] });
    expect(res.status).toBe(202);
    expect(res.body.status).toBe("queued");

    expect(await sendAll()).toBe(1);
    expect(smtp.received).toHaveLength(1);
    const mail = smtp.received[0]!;
    expect(mail.from).toBe("support@mailgate.test");
    expect(mail.to.sort()).toEqual(["audit@msp.example", "boss@acme.com", "john@acme.com"]);
    const parsed = await simpleParser(mail.raw);
    const ticket = (await t.api.get(`/api/tickets/${ticketId}`).expect(200)).body;
    expect(parsed.subject).toBe(`Re: [Ticket #${ticket.number}] Printer is broken`);
    expect(parsed.from?.value[0]).toEqual({ address: "support@mailgate.test", name: "MSP Support" });
    // Matched in their normal form (lower case, message-id.ts), but answered as the customer wrote them.
    expect(parsed.inReplyTo).toBe(messageId);
    expect(parsed.text?.trim()).toBe("We replaced the toner.");
    expect(parsed.headers.get("bcc")).toBeUndefined();
    expect(parsed.headers.get("auto-submitted")).toBeUndefined();

    const sent = (await t.api.get(`/api/outbound-messages/${res.body.id}`).expect(200)).body;
    expect(sent).toMatchObject({ status: "sent", kind: "reply", ticketId, attemptCount: 1, providerMessageId: expect.stringContaining("queued as") });
    expect(sent.attempts).toEqual([expect.objectContaining({ outcome: "sent", error: null })]);
    expect(`<${sent.messageId}>`).toBe(parsed.messageId!.toLowerCase());

    const outbound = ticket.messages.filter((m: { direction: string }) => m.direction === "outbound");
    expect(outbound).toEqual([expect.objectContaining({ kind: "reply", outboundMessageId: res.body.id, text: "We replaced the toner." })]);
    const [event] = await t.ctx.db.select().from(events).where(eq(events.type, "message.sent"));
    expect(event?.payload).toMatchObject({ data: { ticket: { id: ticketId }, message: { id: res.body.id, status: "sent" } } });
    expect(envelopeSchema("message.sent").safeParse(event?.payload).success).toBe(true);
  });

  it("threads the customer's answer back to the ticket by its Message-ID, even with another subject", async () => {
    const { ticketId } = await newTicket("VPN drops");
    const { body } = await t.api.post(`/api/tickets/${ticketId}/replies`).send({ text: "Try again now." }).expect(202);
    await sendAll();
    const sent = (await t.api.get(`/api/outbound-messages/${body.id}`).expect(200)).body;
    const answer = await deliver(t, sourceId, buildEmail({ from: "john@acme.com", subject: "thanks!", inReplyTo: `<${sent.messageId}>` }));
    expect(answer).toMatchObject({ status: "note_added", ticketId });
  });

  it("carries attachments", async () => {
    const { ticketId } = await newTicket("Invoice");
    const content = Buffer.from("%PDF-1.4 invoice");
    await t.api
      .post(`/api/tickets/${ticketId}/replies`)
      .send({ text: "Attached.", attachments: [{ filename: "invoice.pdf", contentType: "application/pdf", contentBase64: content.toString("base64") }] })
      .expect(202);
    await sendAll();
    const parsed = await simpleParser(smtp.received[0]!.raw);
    expect(parsed.attachments.map((a) => [a.filename, a.contentType, a.content.toString()])).toEqual([["invoice.pdf", "application/pdf", content.toString()]]);
  });

  it("is queued once for one Idempotency-Key, and a key reused with another body is refused", async () => {
    const { ticketId } = await newTicket("Idempotent");
    const first = await t.api.post(`/api/tickets/${ticketId}/replies`).set("Idempotency-Key", "reply-1").send({ text: "Once." }).expect(202);
    const again = await t.api.post(`/api/tickets/${ticketId}/replies`).set("Idempotency-Key", "reply-1").send({ text: "Once." }).expect(200);
    expect(again.body.id).toBe(first.body.id);
    const other = await t.api.post(`/api/tickets/${ticketId}/replies`).set("Idempotency-Key", "reply-1").send({ text: "Twice?" });
    expect(other.status).toBe(422);
    expect(other.body.error.code).toBe("idempotency_key_reused");
    expect(await sendAll()).toBe(1);
    expect(smtp.received).toHaveLength(1);
  });

  it("fails with the server's own words when the recipient is refused, tells the webhook, and can be retried", async () => {
    const inbound = await deliver(t, sourceId, buildEmail({ from: "gone@acme.com", subject: "Old account" }));
    smtp.refuse("gone@acme.com", 550, "5.1.1 <gone@acme.com>: Recipient address rejected: User unknown");
    const { body } = await t.api.post(`/api/tickets/${inbound.ticketId}/replies`).send({ text: "Hello?" }).expect(202);
    await sendAll();
    const failed = (await t.api.get(`/api/outbound-messages/${body.id}`).expect(200)).body;
    expect(failed.status).toBe("failed");
    expect(failed.lastError).toContain("User unknown");
    const failures = await t.ctx.db.select().from(events).where(eq(events.type, "message.failed"));
    const failure = failures.find((e) => (e.payload as { data: { message: { id: string } } }).data.message.id === body.id);
    expect(envelopeSchema("message.failed").parse(failure?.payload).data.error.message).toContain("User unknown");

    const retried = await t.api.post(`/api/outbound-messages/${body.id}/retry`).expect(202);
    expect(retried.body.status).toBe("queued");
    await t.api.post(`/api/outbound-messages/${body.id}/retry`).expect(409);
  });

  it("waits and tries again after a temporary refusal", async () => {
    const inbound = await deliver(t, sourceId, buildEmail({ from: "busy@acme.com", subject: "Busy mailbox" }));
    smtp.refuse("busy@acme.com", 450, "4.2.1 Mailbox busy, try later");
    const { body } = await t.api.post(`/api/tickets/${inbound.ticketId}/replies`).send({ text: "Hello?" }).expect(202);
    await sendAll();
    const waiting = (await t.api.get(`/api/outbound-messages/${body.id}`).expect(200)).body;
    expect(waiting).toMatchObject({ status: "queued", attemptCount: 1, lastError: expect.stringContaining("Mailbox busy") });
    expect(new Date(waiting.nextAttemptAt).getTime()).toBeGreaterThan(Date.now() + 20_000);
    const [row] = await t.ctx.db.select().from(outboundMessages).where(eq(outboundMessages.id, body.id));
    expect(row?.leasedUntil).toBeNull();
  });
});

describe("a send that crashes", () => {
  it("counts as a temporary failure with the reason, so the message follows the retry schedule instead of being claimed forever", async () => {
    const broken = await createSource(t, { name: "Broken SMTP", address: "broken@mailgate.test" });
    // A block without its sealed password: smtpSettingsOf throws, as it would on a bug.
    await t.ctx.db.update(mailSources).set({ config: { smtp: { host: "127.0.0.1", port: smtp.port, security: "none", user: "x", saveToSent: false } } }).where(eq(mailSources.id, broken));
    const inbound = await deliver(t, broken, buildEmail({ from: "john@acme.com", to: "broken@mailgate.test", subject: "Broken sender" }));
    const { body } = await t.api.post(`/api/tickets/${inbound.ticketId}/replies`).send({ text: "x" }).expect(202);
    expect(await sendNext(t.ctx)).toBe(true);
    const row = (await t.api.get(`/api/outbound-messages/${body.id}`).expect(200)).body;
    expect(row).toMatchObject({ status: "queued", attemptCount: 1, lastError: expect.stringContaining("no stored SMTP password") });
    expect(smtp.received).toHaveLength(0);
  });
});

describe("a reply that cannot be queued", () => {
  it("answers 404 for an unknown ticket", async () => {
    const res = await t.api.post("/api/tickets/00000000-0000-4000-8000-000000000000/replies").send({ text: "x" });
    expect(res.status).toBe(404);
  });

  it("answers 400 for an empty text, naming the field", async () => {
    const { ticketId } = await newTicket("Empty reply");
    const res = await t.api.post(`/api/tickets/${ticketId}/replies`).send({ text: "  " });
    expect(res.status).toBe(400);
    expect(res.body.error.details).toEqual([expect.objectContaining({ field: "text" })]);
  });

  it("answers 413 for attachments over the message size limit", async () => {
    const { ticketId } = await newTicket("Big reply");
    const big = Buffer.alloc(MAX_MESSAGE_BYTES + 1, 1).toString("base64");
    const res = await t.api.post(`/api/tickets/${ticketId}/replies`).send({ text: "x", attachments: [{ filename: "big.bin", contentType: "application/octet-stream", contentBase64: big }] });
    expect(res.status).toBe(413);
  });

  it("answers 409 when the ticket's source has no way to send", async () => {
    const bare = await createSource(t, { name: "No SMTP", address: "nosmtp@mailgate.test" });
    const inbound = await deliver(t, bare, buildEmail({ from: "john@acme.com", to: "nosmtp@mailgate.test", subject: "Through a bare source" }));
    const res = await t.api.post(`/api/tickets/${inbound.ticketId}/replies`).send({ text: "x" });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe("source_cannot_send");
    expect(res.body.error.message).toContain("smtp");
  });
});
