// A mailbox's own acknowledgement: a company mailbox answers in its company's words while the
// ticket rules' stay off, or stays silent while the rules' answer everywhere else. Set on the
// source (POST/PATCH /api/sources `acknowledgement`), over the ticket rules' field by field.
import { simpleParser } from "mailparser";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { sendNext } from "../../../src/outbound/outbox-sender.ts";
import { buildEmail } from "../../helpers/build-email.ts";
import { createCompany, createSource, deliver } from "../../helpers/pipeline.ts";
import { giveSmtpBlock } from "../../helpers/smtp-block.ts";
import { startFakeSmtp, type FakeSmtp } from "../../fakes/smtp/smtp-server.ts";
import { createTestContext, type TestContext } from "../../helpers/test-context.ts";

const RULES = { subject: "{{ticket.subject}}", text: "Ticket {{ticket.number}} is open." };

let t: TestContext;
let smtp: FakeSmtp;
let systemSource: string;
let acmeMailbox: string;

beforeAll(async () => {
  t = await createTestContext();
  smtp = await startFakeSmtp({ plain: true });
  const acme = await createCompany(t, "Acme", ["acme.com"]);
  systemSource = await createSource(t, { name: "MSP Support" });
  acmeMailbox = await createSource(t, {
    name: "Acme Helpdesk",
    address: "acme@help.msp.example",
    role: "company",
    companyId: acme,
    acknowledgement: { enabled: true, text: "The Acme helpdesk has ticket {{ticket.number}} for {{company.name}}." },
  });
  await giveSmtpBlock(t, systemSource, smtp);
  await giveSmtpBlock(t, acmeMailbox, smtp);
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

const setRules = (enabled: boolean) => t.api.put("/api/settings").send({ acknowledgement: { ...RULES, enabled } }).expect(200);

describe("a mailbox's own acknowledgement", () => {
  it("When the rules' acknowledgement is off and a company mailbox turns its own on, then only mail through that mailbox is answered, in its words, with the rules' subject", async () => {
    await setRules(false);
    const viaMailbox = await deliver(t, acmeMailbox, buildEmail({ from: "john@acme.com", to: "acme@help.msp.example", subject: "Printer is broken" }));
    await deliver(t, systemSource, buildEmail({ from: "mary@acme.com", subject: "Scanner too" }));

    expect(await sendAll()).toBe(1);
    const mail = await simpleParser(smtp.received[0]!.raw);
    const ticket = (await t.api.get(`/api/tickets/${viaMailbox.ticketId}`).expect(200)).body;
    expect(smtp.received[0]).toMatchObject({ from: "acme@help.msp.example", to: ["john@acme.com"] });
    expect(mail.text?.trim()).toBe(`The Acme helpdesk has ticket ${ticket.number} for Acme.`);
    expect(mail.subject).toBe(`Re: [Ticket #${ticket.number}] Printer is broken`);
  });

  it("When the rules' acknowledgement is on and a mailbox turns its own off, then mail through it is not answered while other mail is", async () => {
    await setRules(true);
    await t.api.patch(`/api/sources/${acmeMailbox}`).send({ acknowledgement: { enabled: false } }).expect(200);
    await deliver(t, acmeMailbox, buildEmail({ from: "ann@acme.com", to: "acme@help.msp.example", subject: "Silent mailbox" }));
    await deliver(t, systemSource, buildEmail({ from: "bob@acme.com", subject: "Answered elsewhere" }));

    expect(await sendAll()).toBe(1);
    expect(smtp.received[0]!.to).toEqual(["bob@acme.com"]);
  });

  it("When the mailbox's acknowledgement is set back to null, then the rules' is used for it again", async () => {
    await setRules(true);
    const patched = await t.api.patch(`/api/sources/${acmeMailbox}`).send({ acknowledgement: null }).expect(200);
    expect(patched.body.acknowledgement).toBeNull();
    const inbound = await deliver(t, acmeMailbox, buildEmail({ from: "cid@acme.com", to: "acme@help.msp.example", subject: "Back to the rules" }));

    expect(await sendAll()).toBe(1);
    const ticket = (await t.api.get(`/api/tickets/${inbound.ticketId}`).expect(200)).body;
    expect((await simpleParser(smtp.received[0]!.raw)).text?.trim()).toBe(`Ticket ${ticket.number} is open.`);
  });

  it("When a mailbox's acknowledgement names an unknown placeholder or a field the rules keep, then the source is refused with what to fix", async () => {
    const bad = await t.api.patch(`/api/sources/${acmeMailbox}`).send({ acknowledgement: { text: "Ticket {{ticket.numbr}}" } }).expect(400);
    expect(JSON.stringify(bad.body)).toContain("unknown placeholder {{ticket.numbr}}");
    await t.api.patch(`/api/sources/${acmeMailbox}`).send({ acknowledgement: { perSenderPerHour: 10 } }).expect(400);
    const shown = (await t.api.get(`/api/sources/${acmeMailbox}`).expect(200)).body;
    expect(shown.acknowledgement).toBeNull();
  });
});
