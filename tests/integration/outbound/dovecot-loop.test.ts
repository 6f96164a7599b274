// The whole loop on real servers, with mailgate's own loops running: a mail appended to the IMAP
// inbox (Dovecot) becomes a ticket, its acknowledgement leaves through the source's SMTP block and
// is received by an SMTP server (smtp-server), and the customer's answer to it, appended to the
// inbox in turn, becomes a note on the same ticket, not a new ticket. The source keeps copies of
// what it sends (saveToSent): the acknowledgement lands in its Sent folder too.
import { and, eq } from "drizzle-orm";
import { simpleParser } from "mailparser";
import { afterAll, beforeAll, expect, it } from "vitest";
import { inboundMessages, mailSources, outboundMessages, tickets } from "../../../src/db/schema.ts";
import { startOutboxSender } from "../../../src/outbound/outbox-sender.ts";
import { startPipelineWorkers } from "../../../src/pipeline/worker.ts";
import { imapSourceOf } from "../../../src/sources/imap/imap-source.ts";
import { startImapSupervisor } from "../../../src/sources/imap/imap-supervisor.ts";
import { describeWithDovecot } from "../../fakes/dovecot/describe-with-dovecot.ts";
import { startDovecot, type DovecotServer } from "../../fakes/dovecot/dovecot-server.ts";
import { buildEmail } from "../../helpers/build-email.ts";
import { giveSmtpBlock } from "../../helpers/smtp-block.ts";
import { startFakeSmtp, type FakeSmtp } from "../../fakes/smtp/smtp-server.ts";
import { createTestContext, type TestContext } from "../../helpers/test-context.ts";
import { insertAcme, insertImapSource, newMailboxUser, sourceRow, waitFor, type MailboxUser } from "../imap/imap-fixture.ts";

describeWithDovecot("the outbound loop on Dovecot", () => {
  let dovecot: DovecotServer;
  let smtp: FakeSmtp;
  let t: TestContext;
  let account: MailboxUser;
  let sourceId: string;
  const running: { stop(): Promise<void> }[] = [];

  beforeAll(async () => {
    dovecot = await startDovecot({ accounts: 1 });
    smtp = await startFakeSmtp({ plain: true });
    t = await createTestContext();
    await insertAcme(t.ctx);
    account = newMailboxUser(dovecot);
    sourceId = await insertImapSource(t.ctx, dovecot, account);
    await giveSmtpBlock(t, sourceId, smtp);
    const row = await sourceRow(t.ctx, sourceId);
    const config = row.config as { smtp: object };
    await t.ctx.db.update(mailSources).set({ config: { ...config, smtp: { ...config.smtp, saveToSent: true } } }).where(eq(mailSources.id, sourceId));
    await t.api
      .put("/api/settings")
      .send({ acknowledgement: { enabled: true, subject: "{{ticket.subject}}", text: "We have opened ticket {{ticket.number}}: {{ticket.subject}}." } })
      .expect(200);
    running.push(
      startImapSupervisor(t.ctx, imapSourceOf(t.ctx, await sourceRow(t.ctx, sourceId))),
      startPipelineWorkers(t.ctx, { pollMs: 100 }),
      startOutboxSender(t.ctx),
    );
    await waitFor("the source to connect", async () => (await sourceRow(t.ctx, sourceId)).status === "connected");
  });

  afterAll(async () => {
    // The outbox first: it closes its SMTP connections, which the SMTP server waits for.
    for (const part of running.reverse()) await part.stop();
    await smtp?.close();
    await t?.close();
    await dovecot?.stop();
  });

  const append = async (raw: Buffer) => {
    const client = await dovecot.connect(account.user, account.password);
    try {
      await client.append("INBOX", raw);
    } finally {
      await client.logout();
    }
  };
  const inboundByMessageId = (messageId: string) =>
    waitFor(`the mail ${messageId} to be processed`, async () => {
      const [row] = await t.ctx.db
        .select({ status: inboundMessages.status, ticketId: inboundMessages.ticketId })
        .from(inboundMessages)
        .where(and(eq(inboundMessages.sourceId, sourceId), eq(inboundMessages.messageId, messageId)));
      return row && row.status !== "received" ? row : undefined;
    });

  it("When a customer's mail arrives by IMAP, then the acknowledgement reaches them by SMTP, and their answer to it becomes a note on the same ticket", async () => {
    await append(buildEmail({ from: "John Smith <john@acme.com>", to: account.user, subject: "Printer is broken", messageId: "<printer.1@acme.com>" }));
    const first = await inboundByMessageId("printer.1@acme.com");
    expect(first.status).toBe("ticket_created");

    await waitFor("the acknowledgement at the SMTP server", async () => smtp.received.length > 0);
    const ack = smtp.received[0]!;
    expect(ack).toMatchObject({ from: account.user, to: ["john@acme.com"] });
    const parsed = await simpleParser(ack.raw);
    const [ticket] = await t.ctx.db.select().from(tickets).where(eq(tickets.id, first.ticketId!));
    expect(parsed.subject).toBe(`Re: [Ticket #${ticket!.number}] Printer is broken`);
    expect(parsed.inReplyTo).toBe("<printer.1@acme.com>");
    expect(parsed.headers.get("auto-submitted")).toBe("auto-replied");
    await waitFor("the acknowledgement to be recorded as sent", async () => {
      const [row] = await t.ctx.db.select().from(outboundMessages).where(eq(outboundMessages.ticketId, ticket!.id));
      return row?.status === "sent";
    });

    const sent = await waitFor("the copy in the Sent folder", async () => {
      const client = await dovecot.connect(account.user, account.password);
      try {
        const folder = (await client.list()).find((f) => f.specialUse === "\\Sent");
        if (!folder) return undefined;
        const lock = await client.getMailboxLock(folder.path);
        try {
          const copies = [];
          for await (const m of client.fetch("1:*", { envelope: true, flags: true })) copies.push(m);
          return copies.length > 0 ? copies : undefined;
        } finally {
          lock.release();
        }
      } finally {
        await client.logout();
      }
    });
    expect(sent).toHaveLength(1);
    expect(sent[0]!.envelope?.messageId).toBe(parsed.messageId);
    expect(sent[0]!.flags?.has("\\Seen")).toBe(true);

    await append(
      buildEmail({
        from: "John Smith <john@acme.com>",
        to: account.user,
        subject: `Re: ${parsed.subject}`,
        messageId: "<printer.2@acme.com>",
        inReplyTo: parsed.messageId!,
        references: ["<printer.1@acme.com>", parsed.messageId!],
        text: "Thanks, it is still broken.",
      }),
    );
    const answer = await inboundByMessageId("printer.2@acme.com");
    expect(answer).toEqual({ status: "note_added", ticketId: ticket!.id });

    // A note is not acknowledged: nothing more goes out, and the source still has one ticket.
    await new Promise((r) => setTimeout(r, 500));
    expect(smtp.received).toHaveLength(1);
    expect(await t.ctx.db.select({ id: tickets.id }).from(tickets).where(eq(tickets.sourceId, sourceId))).toHaveLength(1);
    const shown = (await t.api.get(`/api/tickets/${ticket!.id}`).expect(200)).body;
    expect(shown.messages.map((m: { direction: string; kind: string }) => [m.direction, m.kind])).toEqual([
      ["inbound", "initial"],
      ["outbound", "auto_reply"],
      ["inbound", "reply"],
    ]);
  });
});
