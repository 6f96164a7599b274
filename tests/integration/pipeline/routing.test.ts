// The product guide's own examples, end to end: raw MIME through the API, the real pipeline,
// the real database.
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { companies, companyDomains, contacts, events, inboundMessages, leads, mailSources, messageIds, techs, ticketMessages, tickets } from "../../../src/db/schema.ts";
import { buildEmail } from "../../helpers/build-email.ts";
import { createCompany, createSource, deliver } from "../../helpers/pipeline.ts";
import { createTestContext, type TestContext } from "../../helpers/test-context.ts";

let t: TestContext;
let sourceId: string;
let acme: string;

beforeAll(async () => {
  t = await createTestContext();
});
afterAll(async () => t.close());

beforeEach(async () => {
  const db = t.ctx.db;
  // A clean directory for every test; the database itself is this file's own.
  for (const table of [events, leads, messageIds, ticketMessages, inboundMessages, tickets, contacts, techs, mailSources, companyDomains, companies]) {
    await db.delete(table);
  }
  await t.api.put("/api/settings").send({ unmappedDomains: { mode: "default_company", defaultCompanyId: null }, autoAssign: { mode: "none" } }).expect(200);
  sourceId = await createSource(t);
  acme = await createCompany(t, "Acme Corporation", ["acme.com", "acme-corp.com"]);
});

const ticketOf = async (ticketId: string | null) => (await t.api.get(`/api/tickets/${ticketId}`).expect(200)).body;

describe("domain-based routing", () => {
  it("When john@acme.com writes to the system mailbox, then a ticket is created for Acme Corporation", async () => {
    const msg = await deliver(t, sourceId, buildEmail({ from: "John Smith <john@acme.com>", subject: "Printer is broken" }));
    expect(msg.status).toBe("ticket_created");
    const ticket = await ticketOf(msg.ticketId);
    expect(ticket).toMatchObject({ companyId: acme, subject: "Printer is broken", priority: "normal", jobType: "Support Request", status: "open" });
    expect(ticket.messages).toHaveLength(1);
    expect(ticket.messages[0]).toMatchObject({ kind: "initial", from: "john@acme.com" });
  });

  it("When the sender uses the second domain acme-corp.com, then the ticket is Acme's too", async () => {
    const msg = await deliver(t, sourceId, buildEmail({ from: "jane@acme-corp.com" }));
    expect((await ticketOf(msg.ticketId)).companyId).toBe(acme);
  });

  it("When the sender is on a sub-domain (mail.acme.com), then the parent domain's mapping routes it", async () => {
    const msg = await deliver(t, sourceId, buildEmail({ from: "ops@mail.acme.com" }));
    expect((await ticketOf(msg.ticketId)).companyId).toBe(acme);
  });

  it("When the sender exists as a contact, then the ticket is linked to that contact", async () => {
    const contact = await t.api.post("/api/contacts").send({ companyId: acme, email: "john@acme.com", name: "John" }).expect(201);
    const msg = await deliver(t, sourceId, buildEmail({ from: "JOHN@ACME.COM" }));
    expect((await ticketOf(msg.ticketId)).contactId).toBe(contact.body.id);
  });

  it("When a company mailbox receives mail, then every email becomes a ticket for that company whatever the sender", async () => {
    const vip = await createCompany(t, "VIP Ltd");
    const vipSource = await createSource(t, { name: "VIP", address: "vip@mailgate.test", role: "company", companyId: vip });
    const msg = await deliver(t, vipSource, buildEmail({ from: "someone@gmail.com", to: "vip@mailgate.test" }));
    expect((await ticketOf(msg.ticketId)).companyId).toBe(vip);
  });

  it("When the system mailbox gets mail that was also addressed to a company mailbox, then that company wins over the domain", async () => {
    const vip = await createCompany(t, "VIP Ltd");
    await createSource(t, { name: "VIP", address: "vip@mailgate.test", role: "company", companyId: vip });
    const msg = await deliver(t, sourceId, buildEmail({ from: "john@acme.com", to: ["support@mailgate.test"], cc: ["vip@mailgate.test"] }));
    expect((await ticketOf(msg.ticketId)).companyId).toBe(vip);
  });
});

describe("unmapped domains", () => {
  it("When no default company and no lead mode are set, then the mail is kept as unrouted with a reason", async () => {
    const msg = await deliver(t, sourceId, buildEmail({ from: "who@unknown.org" }));
    expect(msg.status).toBe("unrouted");
    expect(msg.reason).toMatch(/domain|default/i);
    await t.api.get(`/api/inbound-messages/${msg.id}/raw`).expect(200);
  });

  it("When a default company is set, then the ticket goes there flagged unmapped for the weekly review", async () => {
    const fallback = await createCompany(t, "Walk-ins", [], { isDefault: true });
    const msg = await deliver(t, sourceId, buildEmail({ from: "who@unknown.org" }));
    const ticket = await ticketOf(msg.ticketId);
    expect(ticket).toMatchObject({ companyId: fallback, unmapped: true });
  });

  it("When lead mode is set, then a lead and a lead.created event are recorded instead of a ticket", async () => {
    await t.api.put("/api/settings").send({ unmappedDomains: { mode: "lead" } }).expect(200);
    const msg = await deliver(t, sourceId, buildEmail({ from: "Prospect <buyer@newcustomer.io>", subject: "Pricing?" }));
    expect(msg.status).toBe("lead_created");
    const [lead] = await t.ctx.db.select().from(leads);
    expect(lead).toMatchObject({ email: "buyer@newcustomer.io", domain: "newcustomer.io", subject: "Pricing?" });
    const types = (await t.ctx.db.select({ type: events.type }).from(events)).map((e) => e.type);
    expect(types).toEqual(["lead.created"]);
  });

  it("When an unrouted sender's domain is mapped with reroute, then the waiting mail becomes a ticket for that company", async () => {
    const msg = await deliver(t, sourceId, buildEmail({ from: "who@later.org" }));
    expect(msg.status).toBe("unrouted");
    const later = await createCompany(t, "Later Inc");
    await t.api.post(`/api/companies/${later}/domains`).send({ domain: "later.org", reroute: true }).expect(201);
    const { drainPipeline } = await import("../../helpers/pipeline.ts");
    await drainPipeline(t);
    const after = (await t.api.get(`/api/inbound-messages/${msg.id}`).expect(200)).body;
    expect(after.status).toBe("ticket_created");
    expect((await ticketOf(after.ticketId)).companyId).toBe(later);
  });
});

describe("thread matching", () => {
  it("When the ticket's contact replies with 'Re: [Ticket #N] Your request', then it becomes a note, not a new ticket", async () => {
    const first = await deliver(t, sourceId, buildEmail({ from: "john@acme.com", subject: "Your request" }));
    const { number } = await ticketOf(first.ticketId);
    const reply = await deliver(t, sourceId, buildEmail({ from: "john@acme.com", subject: `Re: [Ticket #${number}] Your request` }));
    expect(reply).toMatchObject({ status: "note_added", ticketId: first.ticketId });
    const ticket = await ticketOf(first.ticketId);
    expect(ticket.messages.map((m: { kind: string }) => m.kind)).toEqual(["initial", "reply"]);
  });

  it("When a colleague from the same company replies with the ticket number, then it is a note too", async () => {
    const first = await deliver(t, sourceId, buildEmail({ from: "john@acme.com" }));
    const { number } = await ticketOf(first.ticketId);
    const reply = await deliver(t, sourceId, buildEmail({ from: "mary@acme-corp.com", subject: `AW: WG: [Ticket #${number}] Printer` }));
    expect(reply.ticketId).toBe(first.ticketId);
  });

  it("When a stranger guesses a ticket number in the subject, then a new ticket is created instead of hijacking", async () => {
    await createCompany(t, "Other", ["other.com"]);
    const first = await deliver(t, sourceId, buildEmail({ from: "john@acme.com" }));
    const { number } = await ticketOf(first.ticketId);
    const intruder = await deliver(t, sourceId, buildEmail({ from: "eve@other.com", subject: `Re: [Ticket #${number}] Printer` }));
    expect(intruder.status).toBe("ticket_created");
    expect(intruder.ticketId).not.toBe(first.ticketId);
  });

  it("When a reply carries In-Reply-To of the first mail, then it threads even without a ticket number", async () => {
    const first = await deliver(t, sourceId, buildEmail({ from: "john@acme.com", messageId: "<first-1@acme.com>" }));
    const reply = await deliver(t, sourceId, buildEmail({ from: "john@acme.com", subject: "Re: Printer is broken", inReplyTo: "<first-1@acme.com>" }));
    expect(reply).toMatchObject({ status: "note_added", ticketId: first.ticketId });
  });

  it("When a reply arrives for a closed ticket, then the ticket is reopened", async () => {
    const first = await deliver(t, sourceId, buildEmail({ from: "john@acme.com", messageId: "<closed-1@acme.com>" }));
    await t.ctx.db.update(tickets).set({ status: "closed", closedAt: new Date() }).where(eq(tickets.id, first.ticketId!));
    await deliver(t, sourceId, buildEmail({ from: "john@acme.com", references: ["<closed-1@acme.com>"] }));
    expect((await ticketOf(first.ticketId)).status).toBe("open");
    const [event] = await t.ctx.db.select().from(events).where(eq(events.type, "ticket.reply_received"));
    expect((event!.payload as { data: { reopened: boolean } }).data.reopened).toBe(true);
  });
});

describe("duplicates", () => {
  it("When the same email arrives through two mailboxes, then one ticket is created and the second copy is marked duplicate", async () => {
    const second = await createSource(t, { name: "Help", address: "help@mailgate.test" });
    const raw = buildEmail({ from: "john@acme.com", messageId: "<same-1@acme.com>" });
    const a = await deliver(t, sourceId, raw);
    const b = await deliver(t, second, buildEmail({ from: "john@acme.com", messageId: "<SAME-1@acme.com>", headers: { "X-Forwarded-For": "help" } }));
    expect(a.status).toBe("ticket_created");
    expect(b).toMatchObject({ status: "duplicate", ticketId: a.ticketId, duplicateOf: a.id });
    expect(await t.ctx.db.select().from(tickets)).toHaveLength(1);
  });

  it("When the same bytes are posted twice, then they are stored once", async () => {
    const raw = buildEmail({ from: "john@acme.com" });
    const one = await t.api.post(`/api/inbound?sourceId=${sourceId}`).set("Content-Type", "message/rfc822").send(raw).expect(202);
    const two = await t.api.post(`/api/inbound?sourceId=${sourceId}`).set("Content-Type", "message/rfc822").send(raw).expect(202);
    expect(two.body.id).toBe(one.body.id);
  });
});

describe("auto-replies and bounces", () => {
  it("When an out-of-office reply threads to a ticket, then it becomes a note and does not reopen or open a ticket", async () => {
    const first = await deliver(t, sourceId, buildEmail({ from: "john@acme.com", messageId: "<ooo-1@acme.com>" }));
    const ooo = await deliver(
      t,
      sourceId,
      buildEmail({ from: "john@acme.com", subject: "Automatic reply: Printer", inReplyTo: "<ooo-1@acme.com>", headers: { "Auto-Submitted": "auto-replied" } }),
    );
    expect(ooo).toMatchObject({ status: "note_added", ticketId: first.ticketId });
    expect(await t.ctx.db.select().from(tickets)).toHaveLength(1);
  });

  it("When an auto-reply threads to nothing, then it is ignored with the reason", async () => {
    const msg = await deliver(t, sourceId, buildEmail({ from: "john@acme.com", headers: { "X-Autoreply": "yes" } }));
    expect(msg.status).toBe("ignored");
    expect(msg.reason).toMatch(/auto/i);
  });

  it("When a bounce names the original Message-ID inside its report, then it becomes a note on that ticket", async () => {
    const first = await deliver(t, sourceId, buildEmail({ from: "john@acme.com", messageId: "<bounced-1@acme.com>" }));
    const bounce = buildEmail({
      from: "MAILER-DAEMON@mx.acme.com",
      subject: "Undelivered Mail Returned to Sender",
      text: "This is the mail system. Your message could not be delivered.",
      attachments: [
        { filename: "original.txt", contentType: "text/rfc822-headers", content: "Message-ID: <bounced-1@acme.com>\r\nFrom: john@acme.com\r\n" },
      ],
    });
    const msg = await deliver(t, sourceId, bounce);
    expect(msg).toMatchObject({ status: "note_added", ticketId: first.ticketId });
  });
});

describe("ticket rules", () => {
  it("When a job type has a default priority, then new tickets of that job type get it", async () => {
    await t.api.post("/api/job-types").send({ name: "Emergency", defaultPriority: "urgent" }).expect(201);
    await t.api.put("/api/settings").send({ defaultJobType: "Emergency" }).expect(200);
    const msg = await deliver(t, sourceId, buildEmail({ from: "john@acme.com" }));
    expect(await ticketOf(msg.ticketId)).toMatchObject({ jobType: "Emergency", priority: "urgent" });
    await t.api.put("/api/settings").send({ defaultJobType: "Support Request" }).expect(200);
  });

  it("When auto-assign is round robin, then tickets go to each active tech in turn", async () => {
    const ids = [];
    for (const n of ["a", "b", "c"]) ids.push((await t.api.post("/api/techs").send({ name: n, email: `${n}@msp.test` }).expect(201)).body.id);
    await t.api.put("/api/settings").send({ autoAssign: { mode: "round_robin" } }).expect(200);
    const assignees = [];
    for (let i = 0; i < 6; i++) assignees.push((await ticketOf((await deliver(t, sourceId, buildEmail({ from: "john@acme.com" }))).ticketId)).assigneeId);
    for (const id of ids) expect(assignees.filter((a) => a === id)).toHaveLength(2);
  });

  it("When auto-assign names a specific tech, then every new ticket is assigned to them", async () => {
    const tech = (await t.api.post("/api/techs").send({ name: "Sam", email: "sam@msp.test" }).expect(201)).body.id;
    await t.api.put("/api/settings").send({ autoAssign: { mode: "specific", techId: tech } }).expect(200);
    const msg = await deliver(t, sourceId, buildEmail({ from: "john@acme.com" }));
    expect((await ticketOf(msg.ticketId)).assigneeId).toBe(tech);
  });
});

describe("attachments", () => {
  it("When an email has attachments, then they are stored with their bytes and served back", async () => {
    const pdf = Buffer.from("%PDF-1.4 fake pdf bytes");
    const msg = await deliver(
      t,
      sourceId,
      buildEmail({ from: "john@acme.com", attachments: [{ filename: "invoice.pdf", contentType: "application/pdf", content: pdf }] }),
    );
    const ticket = await ticketOf(msg.ticketId);
    const [att] = ticket.messages[0].attachments;
    expect(att).toMatchObject({ filename: "invoice.pdf", contentType: "application/pdf", size: pdf.length });
    const content = await t.api.get(`/api/attachments/${att.id}/content`).buffer(true).parse((res, cb) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => cb(null, Buffer.concat(chunks)));
    });
    expect(Buffer.compare(content.body as Buffer, pdf)).toBe(0);
  });

  it("When an attachment is over the limit or of a type not allowed, then it is skipped and the reason is on the message", async () => {
    await t.api.put("/api/settings").send({ attachments: { mode: "save", maxBytes: 100, allowedTypes: [".pdf", "image/*"] } }).expect(200);
    const msg = await deliver(
      t,
      sourceId,
      buildEmail({
        from: "john@acme.com",
        attachments: [
          { filename: "big.pdf", contentType: "application/pdf", content: Buffer.alloc(500, 1) },
          { filename: "tool.exe", contentType: "application/octet-stream", content: "MZ" },
          { filename: "shot.png", contentType: "image/png", content: "png" },
        ],
      }),
    );
    const [message] = (await ticketOf(msg.ticketId)).messages;
    expect(message.attachments.map((a: { filename: string }) => a.filename)).toEqual(["shot.png"]);
    expect(message.skippedAttachments.map((s: { filename: string }) => s.filename).sort()).toEqual(["big.pdf", "tool.exe"]);
    await t.api.put("/api/settings").send({ attachments: { mode: "save", maxBytes: 26214400, allowedTypes: [] } }).expect(200);
  });
});

describe("events", () => {
  it("When a ticket is created, then a ticket.created event with the ticket, company, contact and message is written in the same transaction", async () => {
    const msg = await deliver(t, sourceId, buildEmail({ from: "John <john@acme.com>", subject: "Hello" }));
    const [event] = await t.ctx.db.select().from(events).where(eq(events.type, "ticket.created"));
    const payload = event!.payload as { type: string; data: Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(payload.type).toBe("ticket.created");
    expect(payload.data.ticket.id).toBe(msg.ticketId);
    expect(payload.data.company).toMatchObject({ id: acme, name: "Acme Corporation" });
    expect(payload.data.contact).toMatchObject({ email: "john@acme.com" });
    expect(payload.data.message).toMatchObject({ subject: "Hello", from: { address: "john@acme.com", name: "John" } });
  });
});
