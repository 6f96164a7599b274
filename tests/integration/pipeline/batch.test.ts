// Workers take waiting messages in batches, one transaction each: a bad email in a batch fails
// alone, and a reply never overtakes the mail it answers (same batch or another worker's).
import { createHash } from "node:crypto";
import { Writable } from "node:stream";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq, sql } from "drizzle-orm";
import { contacts, inboundMessages, tickets } from "../../../src/db/schema.ts";
import { createLogger } from "../../../src/log.ts";
import { processNextMessage, startPipelineWorkers } from "../../../src/pipeline/worker.ts";
import { buildEmail } from "../../helpers/build-email.ts";
import { createCompany, createSource, drainPipeline, postRaw } from "../../helpers/pipeline.ts";
import { createTestContext, usingPostgres, type TestContext } from "../../helpers/test-context.ts";

let t: TestContext;
let sourceId: string;
let newcoId: string;

beforeAll(async () => {
  t = await createTestContext();
  sourceId = await createSource(t);
  await createCompany(t, "Acme Corporation", ["acme.com"]);
  newcoId = await createCompany(t, "Newco", ["newco.example"]);
});
afterAll(async () => t.close());

const statusOf = async (id: string) => (await t.api.get(`/api/inbound-messages/${id}`).expect(200)).body as { status: string; ticketId: string | null; error: string | null };

/** The original opened a ticket and the reply became a note on it. */
async function expectNoteOnTicketOf(replyId: string, originalId: string) {
  const first = await statusOf(originalId);
  const second = await statusOf(replyId);
  expect(first.status).toBe("ticket_created");
  expect(second.status).toBe("note_added");
  expect(second.ticketId).toBe(first.ticketId);
}

/**
 * Runs one batch while another worker's batch, played by a transaction of the test's own, holds
 * what `first` locks (as such a batch holds its rows until it commits) and, once this batch waits
 * for that, goes on to lock what `then` locks. Answers the batch's warnings: a deadlock fails a
 * batch, which is then redone one message at a time, with a warning.
 */
async function batchBesideAnother(first: (tx: postgres.TransactionSql) => Promise<unknown>, then: (tx: postgres.TransactionSql) => Promise<unknown>) {
  const warnings: string[] = [];
  const log = t.ctx.log;
  t.ctx.log = createLogger("warn", new Writable({ write: (line, _enc, done) => (warnings.push(String(line)), done()) }));
  const other = postgres(t.config.databaseUrl!, { max: 2, onnotice: () => {} });
  try {
    let batch: Promise<boolean> = Promise.resolve(false);
    await other.begin(async (tx) => {
      await first(tx);
      batch = processNextMessage(t.ctx);
      await expect
        .poll(async () => (await other`select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`)[0]!.n, { timeout: 10_000 })
        .toBeGreaterThan(0);
      await then(tx);
    });
    expect(await batch).toBe(true);
    await drainPipeline(t);
    return warnings.filter((w) => w.includes("a batch failed"));
  } finally {
    t.ctx.log = log;
    await other.end();
  }
}

describe("batches", () => {
  it("When ten messages wait, then one step processes them all in one transaction", async () => {
    const ids = [];
    for (let i = 0; i < 10; i++) ids.push(await postRaw(t, sourceId, buildEmail({ from: "john@acme.com", subject: `batch ${i}` })));
    expect(await processNextMessage(t.ctx)).toBe(true);
    for (const id of ids) expect((await statusOf(id)).status).toBe("ticket_created");
  });

  it("When one batch holds mail of two sources, then each source's Last Processed is set to the batch's time", async () => {
    const other = await createSource(t, { name: "Billing", address: "billing@mailgate.test" });
    const before = Date.now();
    await postRaw(t, sourceId, buildEmail({ from: "john@acme.com", subject: "to support" }));
    await postRaw(t, other, buildEmail({ from: "john@acme.com", subject: "to billing" }));
    expect(await processNextMessage(t.ctx)).toBe(true);
    for (const id of [sourceId, other]) {
      const { lastProcessedAt } = (await t.api.get(`/api/sources/${id}`).expect(200)).body as { lastProcessedAt: string | null };
      expect(new Date(lastProcessedAt!).getTime()).toBeGreaterThanOrEqual(before - 1000);
    }
  });

  it("When one message of a batch fails in the database, then the others still become tickets and only it is failed", async () => {
    // A real failure inside the transaction, from the database itself: a trigger refusing one subject.
    await t.ctx.db.execute(sql`create or replace function refuse_boom() returns trigger language plpgsql as $$
      begin if new.subject = 'boom' then raise exception 'refused by the test trigger'; end if; return new; end $$`);
    await t.ctx.db.execute(sql`create trigger refuse_boom before insert on tickets for each row execute function refuse_boom()`);
    try {
      const good1 = await postRaw(t, sourceId, buildEmail({ from: "john@acme.com", subject: "fine 1" }));
      const bad = await postRaw(t, sourceId, buildEmail({ from: "john@acme.com", subject: "boom" }));
      const good2 = await postRaw(t, sourceId, buildEmail({ from: "john@acme.com", subject: "fine 2" }));
      await drainPipeline(t);
      expect((await statusOf(good1)).status).toBe("ticket_created");
      expect((await statusOf(good2)).status).toBe("ticket_created");
      const failed = await statusOf(bad);
      expect(failed.status).toBe("failed");
      expect(failed.error).toContain("refused by the test trigger");
    } finally {
      await t.ctx.db.execute(sql`drop trigger refuse_boom on tickets`);
    }
  });

  it("When a reply waits in the same batch as the mail it answers, then it becomes a note on that mail's ticket", async () => {
    const original = buildEmail({ from: "john@acme.com", subject: "printer", messageId: "<same-batch-1@acme.com>" });
    const reply = buildEmail({ from: "john@acme.com", subject: "Re: printer", messageId: "<same-batch-2@acme.com>", inReplyTo: "<same-batch-1@acme.com>" });
    // The reply first in the queue: the batch must not let it overtake.
    const replyId = await postRaw(t, sourceId, reply);
    const originalId = await postRaw(t, sourceId, original);
    await drainPipeline(t);
    await expectNoteOnTicketOf(replyId, originalId);
  });

  it("When a reply is claimed while the mail it answers still waits, then it is held and becomes a note after it", async () => {
    const originalId = await postRaw(t, sourceId, buildEmail({ from: "john@acme.com", subject: "scanner", messageId: "<other-worker-1@acme.com>" }));
    const replyId = await postRaw(
      t,
      sourceId,
      buildEmail({ from: "john@acme.com", subject: "Re: scanner", messageId: "<other-worker-2@acme.com>", references: ["<other-worker-1@acme.com>"] }),
    );
    // The reply is due first and taken alone, as a worker would while another holds the original.
    await t.ctx.db.update(inboundMessages).set({ nextAttemptAt: sql`next_attempt_at - interval '1 second'` }).where(eq(inboundMessages.id, replyId));
    expect(await processNextMessage(t.ctx, { batchSize: 1 })).toBe(true);
    expect((await statusOf(replyId)).status).toBe("received");
    expect((await statusOf(originalId)).status).toBe("received");

    await drainPipeline(t);
    await new Promise((r) => setTimeout(r, 300)); // the hold is short
    await drainPipeline(t);
    await expectNoteOnTicketOf(replyId, originalId);
    const made = await t.ctx.db.select().from(tickets).where(eq(tickets.subject, "Re: scanner"));
    expect(made).toHaveLength(0);
  });

  it("When running workers hold a reply, then they take it again when it is due, not at their next poll", async () => {
    const originalId = await postRaw(t, sourceId, buildEmail({ from: "john@acme.com", subject: "plotter", messageId: "<deferred-wake-1@acme.com>" }));
    const replyId = await postRaw(
      t,
      sourceId,
      buildEmail({ from: "john@acme.com", subject: "Re: plotter", messageId: "<deferred-wake-2@acme.com>", inReplyTo: "<deferred-wake-1@acme.com>" }),
    );
    // The original comes due a little later (as if another worker held it): the reply is held.
    await t.ctx.db.update(inboundMessages).set({ nextAttemptAt: sql`now() + interval '300 milliseconds'` }).where(eq(inboundMessages.id, originalId));
    // Workers that would poll only once a minute: nothing but the hold's own wake-up brings the reply back.
    const workers = startPipelineWorkers(t.ctx, { pollMs: 60_000 });
    try {
      await expect.poll(async () => (await statusOf(replyId)).status, { timeout: 5_000 }).toBe("note_added");
    } finally {
      await workers.stop();
    }
    await expectNoteOnTicketOf(replyId, originalId);
  });

  it("When intake stores a message, then its Message-ID is known before it is parsed", async () => {
    const id = await postRaw(t, sourceId, buildEmail({ from: "john@acme.com", messageId: "<Known-Early@Acme.com>" }));
    const [row] = await t.ctx.db.select({ messageId: inboundMessages.messageId, status: inboundMessages.status }).from(inboundMessages).where(eq(inboundMessages.id, id));
    expect(row).toEqual({ messageId: "known-early@acme.com", status: "received" });
    await drainPipeline(t);
  });

  it.skipIf(!usingPostgres())(
    "When another batch creates the same two new contacts in the other order, then this batch waits for it instead of deadlocking",
    async () => {
      // This batch meets the senders as y, then x; the other batch holds x, then goes on to y.
      const fromY = await postRaw(t, sourceId, buildEmail({ from: "y@newco.example", subject: "from y" }));
      const fromX = await postRaw(t, sourceId, buildEmail({ from: "x@newco.example", subject: "from x" }));
      const failed = await batchBesideAnother(
        (tx) => tx`insert into contacts (company_id, email) values (${newcoId}, 'x@newco.example')`,
        (tx) => tx`insert into contacts (company_id, email) values (${newcoId}, 'y@newco.example') on conflict do nothing`,
      );
      expect(failed).toEqual([]);
      for (const [id, email] of [
        [fromY, "y@newco.example"],
        [fromX, "x@newco.example"],
      ] as const) {
        const inbound = await statusOf(id);
        expect(inbound.status).toBe("ticket_created");
        const [ticket] = await t.ctx.db.select({ contactId: tickets.contactId }).from(tickets).where(eq(tickets.id, inbound.ticketId!));
        const [contact] = await t.ctx.db.select().from(contacts).where(eq(contacts.email, email));
        expect(ticket!.contactId).toBe(contact!.id);
      }
    },
  );

  it.skipIf(!usingPostgres())(
    "When another batch claims copies of the same two mails in the other order, then this batch waits for it instead of deadlocking",
    async () => {
      // This batch has the mails as z, then a; the other batch holds a's Message-ID, then takes z's.
      const z = await postRaw(t, sourceId, buildEmail({ from: "john@acme.com", subject: "copy z", messageId: "<z-copy@acme.com>" }));
      const a = await postRaw(t, sourceId, buildEmail({ from: "john@acme.com", subject: "copy a", messageId: "<a-copy@acme.com>" }));
      const failed = await batchBesideAnother(
        (tx) => tx`insert into message_ids (message_id) values ('a-copy@acme.com')`,
        (tx) => tx`insert into message_ids (message_id) values ('z-copy@acme.com') on conflict do nothing`,
      );
      expect(failed).toEqual([]);
      // The other batch had them first: here they are copies.
      expect((await statusOf(z)).status).toBe("duplicate");
      expect((await statusOf(a)).status).toBe("duplicate");
    },
  );

  it.skipIf(!usingPostgres())(
    "When another batch adds notes to the same two tickets in the other order, then this batch waits for it instead of deadlocking",
    async () => {
      const first = await postRaw(t, sourceId, buildEmail({ from: "john@acme.com", subject: "thread one", messageId: "<thread-one@acme.com>" }));
      const second = await postRaw(t, sourceId, buildEmail({ from: "john@acme.com", subject: "thread two", messageId: "<thread-two@acme.com>" }));
      await drainPipeline(t);
      const ticketOf = async (id: string) => (await statusOf(id)).ticketId!;
      const [low, high] = [
        { ticket: await ticketOf(first), messageId: "<thread-one@acme.com>" },
        { ticket: await ticketOf(second), messageId: "<thread-two@acme.com>" },
      ].sort((x, y) => (x.ticket < y.ticket ? -1 : 1)) as [{ ticket: string; messageId: string }, { ticket: string; messageId: string }];
      // This batch answers the higher ticket id first; the other batch holds the lower one, then takes the higher.
      const replies = [];
      for (const target of [high, low]) {
        replies.push(await postRaw(t, sourceId, buildEmail({ from: "john@acme.com", subject: "Re: thread", inReplyTo: target.messageId })));
      }
      const failed = await batchBesideAnother(
        (tx) => tx`select 1 from tickets where id = ${low.ticket} for update`,
        (tx) => tx`select 1 from tickets where id = ${high.ticket} for update`,
      );
      expect(failed).toEqual([]);
      expect((await statusOf(replies[0]!)).ticketId).toBe(high.ticket);
      expect((await statusOf(replies[1]!)).ticketId).toBe(low.ticket);
      for (const id of replies) expect((await statusOf(id)).status).toBe("note_added");
    },
  );

  it.skipIf(!usingPostgres())(
    "When another batch stores the same two new attachments in the other order, then this batch waits for it instead of deadlocking",
    async () => {
      const files = ["logo of one", "logo of two"]
        .map((text) => ({ content: Buffer.from(text), sha256: createHash("sha256").update(text).digest("hex") }))
        .sort((x, y) => (x.sha256 < y.sha256 ? -1 : 1));
      // This batch carries the file with the higher hash first; the other batch holds the lower one, then takes the higher.
      const mails = [];
      for (const file of [...files].reverse()) {
        mails.push(
          await postRaw(
            t,
            sourceId,
            buildEmail({ from: "john@acme.com", subject: "with logo", attachments: [{ filename: "logo.png", contentType: "image/png", content: file.content }] }),
          ),
        );
      }
      const store = (file: (typeof files)[0]) => (tx: postgres.TransactionSql) =>
        tx`insert into attachment_blobs (sha256, size, content) values (${file.sha256}, ${file.content.length}, ${file.content}) on conflict do nothing`;
      const failed = await batchBesideAnother(store(files[0]!), store(files[1]!));
      expect(failed).toEqual([]);
      for (const id of mails) expect((await statusOf(id)).status).toBe("ticket_created");
    },
  );
});
