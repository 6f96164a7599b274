// Acknowledgements of new tickets: queued by the pipeline in the ticket's transaction, once per
// mail, sent through the mail's own source as an automatic reply (RFC 3834), and never to a
// machine, a list, a no-reply mailbox or one of our own addresses.
import { eq } from "drizzle-orm";
import { simpleParser } from "mailparser";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { flushPendingWrites, pendingWrites } from "../../../src/db/pending-writes.ts";
import { outboundMessages } from "../../../src/db/schema.ts";
import { sendNext } from "../../../src/outbound/outbox-sender.ts";
import { buildEmail } from "../../helpers/build-email.ts";
import { createCompany, createSource, deliver } from "../../helpers/pipeline.ts";
import { giveSmtpBlock } from "../../helpers/smtp-block.ts";
import { startFakeSmtp, type FakeSmtp } from "../../fakes/smtp/smtp-server.ts";
import { createTestContext, type TestContext } from "../../helpers/test-context.ts";

let t: TestContext;
let smtp: FakeSmtp;
let sourceId: string;

const ACKNOWLEDGEMENT = {
  enabled: true,
  subject: "{{ticket.subject}}",
  text: "Ticket {{ticket.number}} is open for {{company.name}}: {{ticket.subject}}. Reply to {{source.address}}.",
};

beforeAll(async () => {
  t = await createTestContext();
  smtp = await startFakeSmtp({ plain: true });
  await createCompany(t, "Acme", ["acme.com"]);
  sourceId = await createSource(t, { name: "MSP Support" });
  await giveSmtpBlock(t, sourceId, smtp);
  await t.api.put("/api/settings").send({ acknowledgement: ACKNOWLEDGEMENT }).expect(200);
});

afterAll(async () => {
  await smtp.close();
  await t.close();
});

beforeEach(() => {
  smtp.received.length = 0;
});

async function sendAll(): Promise<number> {
  let n = 0;
  while (await sendNext(t.ctx)) n++;
  return n;
}

const acknowledgementsOf = (ticketId: string) =>
  t.ctx.db.select().from(outboundMessages).where(eq(outboundMessages.ticketId, ticketId));

describe("a new ticket's acknowledgement", () => {
  it("goes to the sender once, as an automatic reply in the ticket's thread, with the templates filled in", async () => {
    const inbound = await deliver(t, sourceId, buildEmail({ from: "John Smith <john@acme.com>", subject: "Printer is broken", messageId: "<first.ack@acme.com>" }));
    expect(inbound.status).toBe("ticket_created");
    expect(await sendAll()).toBe(1);

    const ticket = (await t.api.get(`/api/tickets/${inbound.ticketId}`).expect(200)).body;
    expect(smtp.received).toHaveLength(1);
    expect(smtp.received[0]!.to).toEqual(["john@acme.com"]);
    const mail = await simpleParser(smtp.received[0]!.raw);
    expect(mail.subject).toBe(`Re: [Ticket #${ticket.number}] Printer is broken`);
    expect(mail.text?.trim()).toBe(`Ticket ${ticket.number} is open for Acme: Printer is broken. Reply to support@mailgate.test.`);
    expect(mail.inReplyTo).toBe("<first.ack@acme.com>");
    expect(mail.headers.get("auto-submitted")).toBe("auto-replied");
    expect(mail.headers.get("x-auto-response-suppress")).toBe("All");
    expect(ticket.messages.map((m: { direction: string; kind: string }) => [m.direction, m.kind])).toEqual([
      ["inbound", "initial"],
      ["outbound", "auto_reply"],
    ]);
    const [row] = await acknowledgementsOf(inbound.ticketId!);
    expect(row).toMatchObject({ kind: "acknowledgement", status: "sent", recipient: "john@acme.com" });
  });

  it("answers the customer's Message-ID as it was written, capitals kept, so their mail client threads it; the ticket still matches by the normal form", async () => {
    const written = "<CAB4Xq9+Z7@Mail.Acme.com>";
    const inbound = await deliver(t, sourceId, buildEmail({ from: "ann@acme.com", subject: "Capitals in the id", messageId: written }));
    expect(await sendAll()).toBe(1);
    const mail = await simpleParser(smtp.received[0]!.raw);
    expect(mail.inReplyTo).toBe(written);
    expect(mail.references).toBe(written);

    // The customer's client answers with the id as it was sent: a note on the same ticket.
    const answer = await deliver(t, sourceId, buildEmail({ from: "ann@acme.com", subject: "Something else", inReplyTo: "<cab4xq9+z7@mail.acme.com>" }));
    expect(answer).toMatchObject({ status: "note_added", ticketId: inbound.ticketId });
  });

  it("is queued once per mail, even if the mail's writes were made again", async () => {
    const inbound = await deliver(t, sourceId, buildEmail({ from: "mary@acme.com", subject: "Once per mail" }));
    const [queued] = await acknowledgementsOf(inbound.ticketId!);
    const writes = pendingWrites();
    const { id: _id, ...again } = queued!;
    writes.outbound.push(again);
    await flushPendingWrites(t.ctx.db, writes, new Date());
    expect(await acknowledgementsOf(inbound.ticketId!)).toHaveLength(1);
  });

  it("is not sent for a note on an existing ticket", async () => {
    const first = await deliver(t, sourceId, buildEmail({ from: "paul@acme.com", subject: "Scanner", messageId: "<scanner.1@acme.com>" }));
    await sendAll();
    const note = await deliver(t, sourceId, buildEmail({ from: "paul@acme.com", subject: "Re: Scanner", inReplyTo: "<scanner.1@acme.com>" }));
    expect(note).toMatchObject({ status: "note_added", ticketId: first.ticketId });
    expect(await acknowledgementsOf(first.ticketId!)).toHaveLength(1);
    expect(await sendAll()).toBe(0);
  });

  it.each([
    ["an auto-reply", { from: "out@acme.com", headers: { "Auto-Submitted": "auto-replied" } }],
    ["a machine's mail", { from: "alerts@acme.com", headers: { "Auto-Submitted": "auto-generated" } }],
    ["bulk mail", { from: "news@acme.com", headers: { Precedence: "bulk" } }],
    ["list mail", { from: "list@acme.com", headers: { "List-Id": "<printers.acme.com>" } }],
    ["an empty return path", { from: "bounce-ish@acme.com", headers: { "Return-Path": "<>" } }],
    ["a no-reply sender", { from: "no-reply@acme.com" }],
    ["one of our own addresses", { from: "support@mailgate.test" }],
  ])("is not sent for %s", async (_what, mail) => {
    const before = (await t.ctx.db.select().from(outboundMessages)).length;
    await deliver(t, sourceId, buildEmail({ subject: `No acknowledgement ${_what}`, ...mail }));
    expect((await t.ctx.db.select().from(outboundMessages)).length).toBe(before);
  });

  it("is not sent to a further address an smtp source owns", async () => {
    await createSource(t, { kind: "smtp", name: "Forwarded", address: "forwarded@mailgate.test", addresses: ["desk@acme.com"] });
    const before = (await t.ctx.db.select().from(outboundMessages)).length;
    const inbound = await deliver(t, sourceId, buildEmail({ from: "desk@acme.com", subject: "From our own desk" }));
    expect(inbound.status).toBe("ticket_created");
    expect((await t.ctx.db.select().from(outboundMessages)).length).toBe(before);
  });

  it("is not sent when acknowledgements are off", async () => {
    await t.api.put("/api/settings").send({ acknowledgement: { ...ACKNOWLEDGEMENT, enabled: false } }).expect(200);
    try {
      const inbound = await deliver(t, sourceId, buildEmail({ from: "quiet@acme.com", subject: "Off" }));
      expect(await acknowledgementsOf(inbound.ticketId!)).toHaveLength(0);
    } finally {
      await t.api.put("/api/settings").send({ acknowledgement: ACKNOWLEDGEMENT }).expect(200);
    }
  });

  it("is not queued through a source that cannot send", async () => {
    const bare = await createSource(t, { name: "No SMTP", address: "nosmtp@mailgate.test" });
    const inbound = await deliver(t, bare, buildEmail({ from: "lisa@acme.com", to: "nosmtp@mailgate.test", subject: "Bare source" }));
    expect(inbound.status).toBe("ticket_created");
    expect(await acknowledgementsOf(inbound.ticketId!)).toHaveLength(0);
  });
});

describe("a lead's acknowledgement", () => {
  it("is sent only when acknowledgeLeads is on, without a ticket number", async () => {
    await t.api.put("/api/settings").send({ unmappedDomains: { mode: "lead" } }).expect(200);
    try {
      const quiet = await deliver(t, sourceId, buildEmail({ from: "first@unknown.example", subject: "Prices?" }));
      expect(quiet.status).toBe("lead_created");
      expect(await sendAll()).toBe(0);

      await t.api.put("/api/settings").send({ acknowledgement: { ...ACKNOWLEDGEMENT, acknowledgeLeads: true } }).expect(200);
      const lead = await deliver(t, sourceId, buildEmail({ from: "second@unknown.example", subject: "Prices?", messageId: "<prices.2@unknown.example>" }));
      expect(lead.status).toBe("lead_created");
      expect(await sendAll()).toBe(1);
      const mail = await simpleParser(smtp.received[0]!.raw);
      expect(smtp.received[0]!.to).toEqual(["second@unknown.example"]);
      expect(mail.subject).toBe("Re: Prices?");
      expect(mail.text?.trim()).toBe("Ticket  is open for : Prices?. Reply to support@mailgate.test.");
      expect(mail.inReplyTo).toBe("<prices.2@unknown.example>");
      expect(mail.headers.get("auto-submitted")).toBe("auto-replied");
    } finally {
      await t.api.put("/api/settings").send({ unmappedDomains: { mode: "default_company", defaultCompanyId: null }, acknowledgement: ACKNOWLEDGEMENT }).expect(200);
    }
  });
});

describe("the acknowledgement settings", () => {
  it("refuse a template with an unknown placeholder, naming it", async () => {
    const res = await t.api.put("/api/settings").send({ acknowledgement: { ...ACKNOWLEDGEMENT, text: "Hi {{ticket.numbr}}" } });
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body)).toContain("{{ticket.numbr}}");
  });

  it("are answered with the defaults filled in", async () => {
    const { body } = await t.api.get("/api/settings").expect(200);
    expect(body.acknowledgement).toMatchObject({ enabled: true, perSenderPerHour: 3, acknowledgeLeads: false });
  });
});
