// The SMTP listener on loopback, with nodemailer as the sending server: what each recipient,
// login and message is answered, and that a mail answered 250 is in inbound_messages (with its
// envelope) and becomes a ticket like mail from any other source.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { buildEmail } from "../../helpers/build-email.ts";
import { createCompany, drainPipeline } from "../../helpers/pipeline.ts";
import { createTestContext, type TestContext } from "../../helpers/test-context.ts";
import { inboundMessages } from "../../../src/db/schema.ts";
import { startSmtpListener, type SmtpListener } from "../../../src/sources/smtp/smtp-listener.ts";
import { openDialog, sendRaw } from "./smtp-client.ts";

const LIMIT = 64 * 1024;
let t: TestContext;
let listener: SmtpListener;
let supportId: string;
let acmeMailboxId: string;
let relayOnlyId: string;

const createSmtpSource = async (body: Record<string, unknown>) => {
  const res = await t.api.post("/api/sources").send({ kind: "smtp", role: "system", ...body });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { id: string } & Record<string, unknown>;
};

const storedFor = (sourceId: string) => t.ctx.db.select().from(inboundMessages).where(eq(inboundMessages.sourceId, sourceId));
const countAll = async () => (await t.ctx.db.select({ id: inboundMessages.id }).from(inboundMessages)).length;

beforeAll(async () => {
  t = await createTestContext({ env: { SMTP_LISTEN: "127.0.0.1:0", MAX_MESSAGE_BYTES: String(LIMIT), SMTP_MAX_REFUSED_RECIPIENTS: "5" } });
  const acme = await createCompany(t, "Acme", ["acme.example"]);
  supportId = (await createSmtpSource({ name: "Support", address: "support@msp.example", addresses: ["help@msp.example"] })).id;
  acmeMailboxId = (await createSmtpSource({ name: "Acme mailbox", address: "acme@in.msp.example", role: "company", companyId: acme })).id;
  const relayOnly = await createSmtpSource({ name: "Relay only", address: "relayed@msp.example", config: { auth: { user: "relay", password: "relay-password-1" } } });
  relayOnlyId = relayOnly.id;
  listener = await startSmtpListener(t.ctx, t.config.smtpListener!);
});

afterAll(async () => {
  await listener?.stop();
  await t?.close();
});

describe("the SMTP listener", () => {
  it("When a server hands over a mail for an owned address, then it is answered 250 once stored with its envelope, and becomes a ticket", async () => {
    const raw = buildEmail({ from: "john@acme.example", to: "help@msp.example", subject: "Printer jams", messageId: "<smtp-1@acme.example>" });
    const sent = await sendRaw(listener.port, { from: "bounces@acme.example", to: ["help@msp.example"], raw });
    expect(sent).toMatchObject({ ok: true });
    expect((sent as { response: string }).response).toMatch(/^250 /);

    const [row] = await storedFor(supportId);
    expect(row!.raw!.equals(raw)).toBe(true);
    const view = (await t.api.get(`/api/inbound-messages/${row!.id}`).expect(200)).body;
    expect(view.envelope).toEqual({ mailFrom: "bounces@acme.example", rcptTo: ["help@msp.example"], clientAddress: "127.0.0.1", helo: expect.any(String), tls: true, authUser: null });

    await drainPipeline(t);
    const after = (await t.api.get(`/api/inbound-messages/${row!.id}`).expect(200)).body;
    expect(after.status).toBe("ticket_created");
    const ticket = (await t.api.get(`/api/tickets/${after.ticketId}`).expect(200)).body;
    expect(ticket.subject).toBe("Printer jams");
  });

  it("When one mail is addressed to two sources' addresses, then each source stores a copy and they become one ticket", async () => {
    const raw = buildEmail({ from: "jane@acme.example", to: ["support@msp.example", "acme@in.msp.example"], subject: "Both mailboxes", messageId: "<smtp-2@acme.example>" });
    const sent = await sendRaw(listener.port, { from: "jane@acme.example", to: ["support@msp.example", "acme@in.msp.example"], raw });
    expect(sent.ok).toBe(true);
    const copies = [...(await storedFor(supportId)), ...(await storedFor(acmeMailboxId))].filter((r) => r.messageId === "smtp-2@acme.example");
    expect(copies).toHaveLength(2);
    await drainPipeline(t);
    const statuses = await Promise.all(copies.map(async (c) => (await t.api.get(`/api/inbound-messages/${c.id}`).expect(200)).body));
    expect(statuses.map((s) => s.status).sort()).toEqual(["duplicate", "ticket_created"]);
    expect(new Set(statuses.map((s) => s.ticketId ?? s.duplicateOf)).size).toBeGreaterThan(0);
  });

  it("When the same bytes are handed over again (the sender lost our answer), then they are stored once", async () => {
    const raw = buildEmail({ to: "support@msp.example", subject: "Sent twice", messageId: "<smtp-3@acme.example>" });
    for (let i = 0; i < 2; i++) expect((await sendRaw(listener.port, { from: "john@acme.example", to: ["support@msp.example"], raw })).ok).toBe(true);
    expect((await storedFor(supportId)).filter((r) => r.messageId === "smtp-3@acme.example")).toHaveLength(1);
  });

  it("When a recipient is an address no source owns, then RCPT TO is refused with 550 and nothing is stored", async () => {
    const before = await countAll();
    const sent = await sendRaw(listener.port, { from: "spammer@elsewhere.example", to: ["nobody@msp.example"], raw: buildEmail({ to: "nobody@msp.example" }) });
    expect(sent).toMatchObject({ ok: false, responseCode: 550, command: "RCPT TO" });
    expect(await countAll()).toBe(before);
  });

  it("When a message is larger than MAX_MESSAGE_BYTES, then it is refused with 552 and nothing is stored", async () => {
    const before = await countAll();
    const raw = buildEmail({ to: "support@msp.example", text: "x".repeat(70) + "\r\n".repeat(1) + ("y".repeat(70) + "\r\n").repeat(1200) });
    expect(raw.length).toBeGreaterThan(LIMIT);
    const sent = await sendRaw(listener.port, { from: "john@acme.example", to: ["support@msp.example"], raw });
    expect(sent).toMatchObject({ ok: false, responseCode: 552 });
    expect(await countAll()).toBe(before);
  });

  it("When a source wants AUTH, then mail for it is refused without a login (530) and with a wrong one (535), and accepted with its own", async () => {
    const mail = { from: "relay@msp.example", to: ["relayed@msp.example"], raw: buildEmail({ to: "relayed@msp.example", messageId: "<smtp-auth@acme.example>" }) };
    expect(await sendRaw(listener.port, mail)).toMatchObject({ ok: false, responseCode: 530, command: "RCPT TO" });
    expect(await sendRaw(listener.port, mail, { auth: { user: "relay", pass: "wrong-password" } })).toMatchObject({ ok: false, responseCode: 535 });
    expect(await sendRaw(listener.port, mail, { auth: { user: "relay", pass: "relay-password-1" } })).toMatchObject({ ok: true });
    const [row] = await storedFor(relayOnlyId);
    expect(row!.envelope).toMatchObject({ authUser: "relay", tls: true });
    const view = (await t.api.get(`/api/sources/${relayOnlyId}`).expect(200)).body;
    expect(view.config).toEqual({ auth: { user: "relay", hasPassword: true } });
    expect(JSON.stringify(view)).not.toContain("relay-password-1");
  });

  it("When a client is outside SMTP_ALLOW_FROM, then its connection is refused with 554", async () => {
    const guarded = await startSmtpListener(t.ctx, { ...t.config.smtpListener!, allowFrom: ["10.0.0.0/8", "2001:db8::/32"] });
    try {
      const sent = await sendRaw(guarded.port, { from: "john@acme.example", to: ["support@msp.example"], raw: buildEmail({ to: "support@msp.example" }) });
      expect(sent).toMatchObject({ ok: false, responseCode: 554 });
    } finally {
      await guarded.stop();
    }
  });

  it("When a connection is cut in the middle of DATA, then nothing is stored", async () => {
    const before = await countAll();
    const smtp = await openDialog(listener.port);
    expect(await smtp.say("EHLO client.example")).toMatch(/^250/m);
    expect(await smtp.say("MAIL FROM:<john@acme.example>")).toMatch(/^250/);
    expect(await smtp.say("RCPT TO:<support@msp.example>")).toMatch(/^250/);
    expect(await smtp.say("DATA")).toMatch(/^354/);
    smtp.write("From: john@acme.example\r\nTo: support@msp.example\r\nSubject: cut short\r\n\r\nhalf a mess");
    await new Promise((r) => setTimeout(r, 50));
    smtp.cut();
    await new Promise((r) => setTimeout(r, 200));
    expect(await countAll()).toBe(before);
  });

  it("When a client keeps trying unknown addresses, then its connection is closed with 421", async () => {
    const smtp = await openDialog(listener.port);
    await smtp.say("EHLO prober.example");
    await smtp.say("MAIL FROM:<spammer@elsewhere.example>");
    const answers: string[] = [];
    for (let i = 0; i < 5; i++) answers.push(await smtp.say(`RCPT TO:<probe${i}@msp.example>`));
    expect(answers.slice(0, 4).every((a) => a.startsWith("550"))).toBe(true);
    expect(answers[4]).toMatch(/^421 /);
    await smtp.closed;
  });

  it("When a connection has sent SMTP_MAX_MESSAGES_PER_CONNECTION messages, then its next MAIL FROM is answered 421 and it is closed", async () => {
    const limited = await startSmtpListener(t.ctx, { ...t.config.smtpListener!, maxMessagesPerConnection: 2 });
    try {
      const smtp = await openDialog(limited.port);
      await smtp.say("EHLO sender.example");
      for (let i = 0; i < 2; i++) {
        expect(await smtp.say("MAIL FROM:<john@acme.example>")).toMatch(/^250/);
        expect(await smtp.say("RCPT TO:<support@msp.example>")).toMatch(/^250/);
        expect(await smtp.say("DATA")).toMatch(/^354/);
        expect(await smtp.say(`From: john@acme.example\r\nSubject: number ${i}\r\nMessage-ID: <per-connection-${i}@acme.example>\r\n\r\nbody\r\n.`)).toMatch(/^250/);
      }
      expect(await smtp.say("MAIL FROM:<john@acme.example>")).toMatch(/^421 /);
      await smtp.closed;
    } finally {
      await limited.stop();
    }
  });
});
