// Loop safety: two mailgate instances (two databases), each acknowledging new tickets, each
// sending through its own SMTP server, whose mail is handed to the other instance's intake. Mail
// goes back and forth until a round moves nothing; each side sends at most one acknowledgement.
// And a person who opens ticket after ticket gets no more acknowledgements an hour than the
// per-sender limit allows.
import { and, eq } from "drizzle-orm";
import { afterEach, describe, expect, it } from "vitest";
import { inboundMessages, outboundMessages } from "../../../src/db/schema.ts";
import { sendNext } from "../../../src/outbound/outbox-sender.ts";
import { buildEmail } from "../../helpers/build-email.ts";
import { createCompany, createSource, drainPipeline, postRaw } from "../../helpers/pipeline.ts";
import { giveSmtpBlock } from "../../helpers/smtp-block.ts";
import { startFakeSmtp, type FakeSmtp } from "../../fakes/smtp/smtp-server.ts";
import { createTestContext, type TestContext } from "../../helpers/test-context.ts";

const ACKNOWLEDGEMENT = { enabled: true, subject: "{{ticket.subject}}", text: "We have opened ticket {{ticket.number}} for you." };

/** One mailgate with its support mailbox, and the SMTP server its mail leaves through. */
type Instance = { t: TestContext; smtp: FakeSmtp; sourceId: string; address: string };

const opened: Instance[] = [];

afterEach(async () => {
  for (const instance of opened.splice(0)) {
    await instance.smtp.close();
    await instance.t.close();
  }
});

/** An instance whose support address is `address`, treating `customerDomain` as a customer. */
async function startInstance(address: string, customerDomain: string): Promise<Instance> {
  const t = await createTestContext();
  const smtp = await startFakeSmtp({ plain: true });
  await createCompany(t, `Customer at ${customerDomain}`, [customerDomain]);
  const sourceId = await createSource(t, { name: `Support ${address}`, address });
  await giveSmtpBlock(t, sourceId, smtp);
  await t.api.put("/api/settings").send({ acknowledgement: ACKNOWLEDGEMENT }).expect(200);
  const instance = { t, smtp, sourceId, address };
  opened.push(instance);
  return instance;
}

/** What a relay does to a mail on its way; by default nothing. */
type Relay = (raw: Buffer) => Buffer;

/**
 * Processes what each instance received, sends what it queued, and hands every mail its SMTP
 * server accepted to the other instance, until a round moves no mail. Answers the rounds it took.
 */
async function exchangeUntilQuiet(a: Instance, b: Instance, relay: Relay = (raw) => raw): Promise<number> {
  for (let round = 1; round <= 10; round++) {
    let moved = 0;
    for (const [from, to] of [
      [a, b],
      [b, a],
    ] as const) {
      await drainPipeline(from.t);
      while (await sendNext(from.t.ctx));
      for (const mail of from.smtp.received.splice(0)) {
        expect(mail.to).toEqual([to.address]);
        await postRaw(to.t, to.sourceId, relay(mail.raw));
        moved++;
      }
    }
    if (moved === 0) return round;
  }
  throw new Error("the two instances were still mailing each other after 10 rounds");
}

const acknowledgementsSent = async (instance: Instance) =>
  (await instance.t.ctx.db.select().from(outboundMessages).where(and(eq(outboundMessages.kind, "acknowledgement"), eq(outboundMessages.status, "sent")))).length;

const inbound = (instance: Instance) =>
  instance.t.ctx.db.select({ status: inboundMessages.status, reason: inboundMessages.reason }).from(inboundMessages).orderBy(inboundMessages.createdAt);

/** Drops the named header fields (with their folded lines) from a mail's header. */
function withoutHeaders(raw: Buffer, names: string[]): Buffer {
  const text = raw.toString("latin1");
  const end = text.indexOf("\r\n\r\n");
  const kept = text
    .slice(0, end)
    .split(/\r\n(?![ \t])/)
    .filter((field) => !names.some((name) => field.toLowerCase().startsWith(`${name.toLowerCase()}:`)));
  return Buffer.from(kept.join("\r\n") + text.slice(end), "latin1");
}

describe("two auto-responders facing each other", () => {
  const dropsXHeaders: Relay = (raw) => withoutHeaders(raw, ["X-Mailgate-Loop", "X-Auto-Response-Suppress"]);

  it.each([
    // Two deployments (two secret keys): B does not take A's loop header for its own, and stops at
    // the RFC 3834 mark instead.
    ["as sent", undefined, "auto_reply: Auto-Submitted: auto-replied"],
    ["through a relay that drops X- headers", dropsXHeaders, "auto_reply: Auto-Submitted: auto-replied"],
  ])(
    "When a mail from one instance's mailbox reaches the other and the acknowledgement comes back %s, then nobody answers it: one acknowledgement in all",
    async (_how, relay, reason) => {
      const a = await startInstance("support@a-msp.test", "b-msp.test");
      const b = await startInstance("support@b-msp.test", "a-msp.test");
      await postRaw(a.t, a.sourceId, buildEmail({ from: b.address, to: a.address, subject: "Hello from B" }));

      expect(await exchangeUntilQuiet(a, b, relay)).toBeLessThanOrEqual(3);
      expect(await acknowledgementsSent(a)).toBe(1);
      expect(await acknowledgementsSent(b)).toBe(0);
      expect(await inbound(b)).toEqual([{ status: "ignored", reason }]);
    },
  );

  it("When a relay drops every sign of an automatic reply, then each instance sends one acknowledgement at most, and the second threads into the first ticket", async () => {
    const a = await startInstance("support@a-msp.test", "b-msp.test");
    const b = await startInstance("support@b-msp.test", "a-msp.test");
    const dropsAll: Relay = (raw) => withoutHeaders(raw, ["Auto-Submitted", "X-Auto-Response-Suppress", "X-Mailgate-Loop"]);
    await postRaw(a.t, a.sourceId, buildEmail({ from: b.address, to: a.address, subject: "Hello from B" }));

    await exchangeUntilQuiet(a, b, dropsAll);
    expect(await acknowledgementsSent(a)).toBe(1);
    expect(await acknowledgementsSent(b)).toBe(1);
    // B took A's acknowledgement for a new ticket; A put B's acknowledgement of it on the first
    // ticket (its In-Reply-To names A's acknowledgement), and a note is not acknowledged.
    expect((await inbound(a)).map((m) => m.status)).toEqual(["ticket_created", "note_added"]);
    expect((await inbound(b)).map((m) => m.status)).toEqual(["ticket_created"]);
  });
});

describe("the per-sender limit", () => {
  it("When one person opens five tickets within the hour, then three acknowledgements go out (the default limit)", async () => {
    const a = await startInstance("support@a-msp.test", "acme.com");
    const mail = (i: number) => postRaw(a.t, a.sourceId, buildEmail({ from: "john@acme.com", to: a.address, subject: `Problem number ${i}` }));
    // Two processed one by one (counted from the database), then three in one batch (counted in it too).
    for (const i of [1, 2]) {
      await mail(i);
      await drainPipeline(a.t);
    }
    for (const i of [3, 4, 5]) await mail(i);
    await drainPipeline(a.t);
    while (await sendNext(a.t.ctx));

    expect((await inbound(a)).map((m) => m.status)).toEqual(Array(5).fill("ticket_created"));
    expect(a.smtp.received).toHaveLength(3);
    expect(a.smtp.received.every((mail) => mail.to.join() === "john@acme.com")).toBe(true);
    expect(await acknowledgementsSent(a)).toBe(3);
  });
});
