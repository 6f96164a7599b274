// The outbox when a sender dies or is too slow: a claim is a lease, so a message whose sender died
// is sent by another sender once the lease has run out, once; a sender that lost its lease cannot
// overwrite what the next one wrote. A crash after the server accepted the mail but before the
// outcome was recorded sends it twice: the one documented window, with the same bytes both times.
// The clock is the test's: leases run out when the test moves it.
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { attemptsOf, claimDueOutbound, recordSendResults, type ClaimedOutbound, type SendResult } from "../../../src/db/outbound-messages.ts";
import { outboundMessages } from "../../../src/db/schema.ts";
import { sendNext } from "../../../src/outbound/outbox-sender.ts";
import { sendViaSmtp, type SmtpSender } from "../../../src/sources/imap/smtp-sender.ts";
import { buildEmail } from "../../helpers/build-email.ts";
import { createCompany, createSource, deliver } from "../../helpers/pipeline.ts";
import { giveSmtpBlock } from "../../helpers/smtp-block.ts";
import { startFakeSmtp, type FakeSmtp } from "../../fakes/smtp/smtp-server.ts";
import { createTestContext, type TestContext } from "../../helpers/test-context.ts";
import { waitFor } from "../../helpers/wait-for.ts";

const MINUTE = 60_000;
/** Longer than any lease the outbox takes. */
const PAST_ANY_LEASE = 10 * MINUTE;

/** Real time moved on by `offsetMs`: a lease runs out when the test says so. */
const clock = { offsetMs: 0, now: () => new Date(Date.now() + clock.offsetMs) };

let t: TestContext;
let smtp: FakeSmtp;
let sourceId: string;

beforeAll(async () => {
  t = await createTestContext({ clock });
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

// A sender whose process is killed while sending: its step never comes back, so nothing after
// the send is written (a sender that throws is another case: its failure is recorded).
const never = () => new Promise<never>(() => {});
/** Killed before the SMTP server heard anything. */
const killedBeforeSending: SmtpSender = never;
/** Killed after the SMTP server accepted the mail. */
const killedAfterAcceptance: SmtpSender = async (send) => {
  await sendViaSmtp(send);
  return never();
};

/** Starts a sender that will be killed, and waits until it got as far as `reached`. */
async function startKilledSender(smtp: SmtpSender, reached: () => Promise<boolean> | boolean): Promise<void> {
  void sendNext(t.ctx, smtp);
  await waitFor(reached);
}

async function queuedReply(subject: string): Promise<string> {
  const inbound = await deliver(t, sourceId, buildEmail({ from: "john@acme.com", subject }));
  const res = await t.api.post(`/api/tickets/${inbound.ticketId}/replies`).send({ text: "We are on it." }).expect(202);
  return res.body.id as string;
}

/** Claims the one due message, as a sender would at `now`. */
const claimAt = async (now: Date, leaseMs: number) => (await claimDueOutbound(t.ctx.db, { now, leaseUntil: new Date(now.getTime() + leaseMs), limit: 1 }))[0] ?? null;
/** Writes one attempt's outcome under its claim's lease; the row as written, or null when the lease was lost. */
const record = async (claimed: ClaimedOutbound, result: SendResult, attemptedAt: Date, durationMs: number) =>
  (await recordSendResults(t.ctx.db, [{ claimed, result, attemptedAt, durationMs }]))[0] ?? null;

const rowOf = async (id: string) => (await t.ctx.db.select().from(outboundMessages).where(eq(outboundMessages.id, id)))[0]!;

describe("a sender that dies", () => {
  it("When a sender dies after claiming a message, then nothing goes out while its lease lasts, and after it another sender sends it once", async () => {
    const id = await queuedReply("Claimed then killed");
    await startKilledSender(killedBeforeSending, async () => (await rowOf(id)).status === "sending");
    expect(await rowOf(id)).toMatchObject({ status: "sending", attempts: 0 });

    expect(await sendNext(t.ctx)).toBe(false);
    expect(smtp.received).toHaveLength(0);

    clock.offsetMs += PAST_ANY_LEASE;
    // Two senders look at once: one of them takes it.
    expect((await Promise.all([sendNext(t.ctx), sendNext(t.ctx)])).sort()).toEqual([false, true]);
    expect(await sendNext(t.ctx)).toBe(false);
    expect(smtp.received).toHaveLength(1);
    expect(await rowOf(id)).toMatchObject({ status: "sent", attempts: 1, leasedUntil: null });
  });

  it("When a sender dies after the server accepted the mail but before recording it, then it is sent again after the lease, with the same bytes and Message-ID", async () => {
    const id = await queuedReply("Accepted then killed");
    await startKilledSender(killedAfterAcceptance, () => smtp.received.length === 1);
    expect(await rowOf(id)).toMatchObject({ status: "sending", attempts: 0 });

    clock.offsetMs += PAST_ANY_LEASE;
    expect(await sendNext(t.ctx)).toBe(true);
    expect(smtp.received).toHaveLength(2);
    expect(smtp.received[1]!.raw.equals(smtp.received[0]!.raw)).toBe(true);
    expect(await rowOf(id)).toMatchObject({ status: "sent", attempts: 1 });
    expect(await sendNext(t.ctx)).toBe(false);
  });

  it("When an acknowledgement's sender dies after building it, then the next sender sends what was built and the ticket shows it once", async () => {
    await t.api.put("/api/settings").send({ acknowledgement: { enabled: true, subject: "{{ticket.subject}}", text: "Ticket {{ticket.number}} is open." } }).expect(200);
    try {
      const inbound = await deliver(t, sourceId, buildEmail({ from: "mary@acme.com", subject: "Built then killed" }));
      const [queued] = await t.ctx.db.select().from(outboundMessages).where(eq(outboundMessages.ticketId, inbound.ticketId!));
      await startKilledSender(killedBeforeSending, async () => (await rowOf(queued!.id)).raw !== null);
      const built = await rowOf(queued!.id);
      expect(built).toMatchObject({ status: "sending", messageId: expect.any(String) });

      clock.offsetMs += PAST_ANY_LEASE;
      expect(await sendNext(t.ctx)).toBe(true);
      expect(smtp.received).toHaveLength(1);
      expect(smtp.received[0]!.raw.equals(built.raw!)).toBe(true);
      const ticket = (await t.api.get(`/api/tickets/${inbound.ticketId}`).expect(200)).body;
      expect(ticket.messages.filter((m: { direction: string }) => m.direction === "outbound")).toHaveLength(1);
    } finally {
      await t.api.put("/api/settings").send({ acknowledgement: { enabled: false, subject: "{{ticket.subject}}", text: "x" } }).expect(200);
    }
  });
});

describe("a sender that lost its lease", () => {
  it("When the lease ran out and another sender sent the message, then the first sender's late failure does not overwrite it, and its attempt is kept", async () => {
    const id = await queuedReply("Late failure");
    const t0 = clock.now();
    const first = await claimAt(t0, MINUTE);
    const t1 = new Date(t0.getTime() + MINUTE + 1000);
    const second = await claimAt(t1, MINUTE);
    expect([first?.id, second?.id]).toEqual([id, id]);

    const sent = await record(second!, { outcome: "sent", providerId: "250 queued as SECOND", providerThreadId: null }, t1, 12);
    expect(sent).toMatchObject({ status: "sent", providerId: "250 queued as SECOND" });
    const late = await record(first!, { outcome: "permanent", error: "550 too late" }, new Date(t1.getTime() + 1000), 30_000);
    expect(late).toBeNull();

    expect(await rowOf(id)).toMatchObject({ status: "sent", providerId: "250 queued as SECOND", lastError: null, attempts: 1, leasedUntil: null });
    const attempts = (await attemptsOf(t.ctx.db, [id])).get(id)!;
    expect(attempts.map((a) => a.outcome).sort()).toEqual(["permanent", "sent"]);
  });

  it("When the first sender answers while the second still holds the lease, then the second's claim stands and its own outcome is written", async () => {
    const id = await queuedReply("Late success");
    const t0 = clock.now();
    const first = await claimAt(t0, MINUTE);
    const t1 = new Date(t0.getTime() + MINUTE + 1000);
    const second = await claimAt(t1, MINUTE);

    const late = await record(first!, { outcome: "sent", providerId: "250 queued as FIRST", providerThreadId: null }, t1, 61_000);
    expect(late).toBeNull();
    expect(await rowOf(id)).toMatchObject({ status: "sending", leasedUntil: second!.leasedUntil, attempts: 0 });
    // Nobody else takes it while the second sender's lease lasts.
    expect(await claimAt(new Date(t1.getTime() + 1000), 2 * MINUTE)).toBeNull();

    const retryAt = new Date(t1.getTime() + 5 * MINUTE);
    const written = await record(second!, { outcome: "transient", error: "421 try later", retryAt }, t1, 10);
    expect(written).toMatchObject({ status: "queued", attempts: 1, lastError: "421 try later", nextAttemptAt: retryAt, leasedUntil: null });
  });
});
