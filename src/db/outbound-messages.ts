// outbound_messages: the outbox of outgoing mail. Queued by the API (a tech's reply) or by the
// pipeline (an acknowledgement, in the new ticket's transaction), claimed one at a time by a
// sender (FOR UPDATE SKIP LOCKED, with a lease), and settled with the provider's answer, which
// is written only while the claim's lease still holds.
import { and, eq, or, sql } from "drizzle-orm";
import { pgArray, queryRows, type Executor } from "./client.ts";
import { outboundAttempts, outboundMessages } from "./schema.ts";
import type { OutboundKind, OutboundStatus } from "./statuses.ts";
import { pageOrder, pageWhere, type Page } from "../http/pagination.ts";

export type OutboundRow = typeof outboundMessages.$inferSelect;
export type NewOutbound = typeof outboundMessages.$inferInsert;

/** An outgoing message as a sender claimed it: the row, and the lease its outcome must be written under. */
export type ClaimedOutbound = OutboundRow & { leasedUntil: Date };

/** What sending came to; `retryAt` for a transient failure that is tried again. */
export type SendResult =
  | { outcome: "sent"; providerId: string | null; providerThreadId: string | null }
  | { outcome: "transient"; error: string; retryAt: Date }
  | { outcome: "permanent"; error: string }
  | { outcome: "waiting_for_authorization"; error: string };

/**
 * Queues a message. With an Idempotency-Key, a key already used answers the message it made
 * (`existing`), never a second one; the caller compares the request hash.
 */
export async function queueOutbound(executor: Executor, row: NewOutbound): Promise<{ created: boolean; row: OutboundRow }> {
  if (!row.idempotencyKey) {
    const [created] = await executor.insert(outboundMessages).values(row).returning();
    return { created: true, row: created! };
  }
  const [created] = await executor.insert(outboundMessages).values(row).onConflictDoNothing({ target: outboundMessages.idempotencyKey }).returning();
  if (created) return { created: true, row: created };
  const [existing] = await executor.select().from(outboundMessages).where(eq(outboundMessages.idempotencyKey, row.idempotencyKey));
  return { created: false, row: existing! };
}

/**
 * Claims up to `limit` due messages, oldest due first, and leases them until `leaseUntil`: a
 * message whose sender died is claimed again when the lease runs out. `sending` rows with a live
 * lease are stepped over.
 */
export async function claimDueOutbound(executor: Executor, opts: { now: Date; leaseUntil: Date; limit: number }): Promise<ClaimedOutbound[]> {
  const now = opts.now.toISOString();
  const due = sql`select id from outbound_messages
                   where status in ('queued', 'sending') and next_attempt_at <= ${now}::timestamptz
                     and (leased_until is null or leased_until <= ${now}::timestamptz)
                   order by next_attempt_at
                   limit ${opts.limit}
                   for update skip locked`;
  const claimed = await executor
    .update(outboundMessages)
    .set({ status: "sending", leasedUntil: opts.leaseUntil, updatedAt: opts.now })
    .where(sql`${outboundMessages.id} = any(array(${due}))`)
    .returning();
  return claimed.sort((a, b) => a.nextAttemptAt.getTime() - b.nextAttemptAt.getTime()).map((row) => ({ ...row, leasedUntil: opts.leaseUntil }));
}

export type BuiltMessage = { id: string; messageId: string; raw: Buffer; subject: string };

/** Keeps each built MIME and its Message-ID, so every later attempt sends the same bytes. */
export async function storeBuiltMessages(executor: Executor, built: BuiltMessage[]): Promise<void> {
  if (built.length === 0) return;
  const json = JSON.stringify(built.map((b) => ({ id: b.id, message_id: b.messageId, raw: b.raw.toString("base64"), subject: b.subject })));
  await executor.execute(sql`
    update outbound_messages o
       set message_id = r.message_id, raw = decode(r.raw, 'base64'), subject = r.subject
      from jsonb_to_recordset(${json}::jsonb) as r(id uuid, message_id text, raw text, subject text)
     where o.id = r.id and o.id = any(${pgArray(built.map((b) => b.id))}::uuid[])`);
}

/** One attempt's outcome, to be written under the lease it was claimed with. */
export type SendRecord = { claimed: ClaimedOutbound; result: SendResult; attemptedAt: Date; durationMs: number };

/**
 * Writes attempts and the messages' new state, each only while its claim's lease holds (another
 * sender may have claimed it after the lease ran out). Answers the rows as written; a message
 * whose lease was lost is not among them, but its attempt is still kept in the history.
 */
export async function recordSendResults(executor: Executor, records: SendRecord[]): Promise<OutboundRow[]> {
  if (records.length === 0) return [];
  const json = JSON.stringify(
    records.map(({ claimed, result, attemptedAt }) => ({
      id: claimed.id,
      leased_until: claimed.leasedUntil.toISOString(),
      status: statusAfter(result),
      at: attemptedAt.toISOString(),
      provider_id: result.outcome === "sent" ? result.providerId : null,
      provider_thread_id: result.outcome === "sent" ? result.providerThreadId : null,
      error: result.outcome === "sent" ? null : result.error,
      next_at: result.outcome === "transient" ? result.retryAt.toISOString() : null,
    })),
  );
  const written = await executor
    .update(outboundMessages)
    .set({
      status: sql`r.status`,
      attempts: sql`${outboundMessages.attempts} + 1`,
      leasedUntil: null,
      updatedAt: sql`r.at`,
      providerId: sql`case when r.status = 'sent' then r.provider_id else ${outboundMessages.providerId} end`,
      providerThreadId: sql`coalesce(r.provider_thread_id, ${outboundMessages.providerThreadId})`,
      sentAt: sql`case when r.status = 'sent' then r.at else ${outboundMessages.sentAt} end`,
      lastError: sql`r.error`,
      nextAttemptAt: sql`coalesce(r.next_at, ${outboundMessages.nextAttemptAt})`,
    })
    .from(
      sql`jsonb_to_recordset(${json}::jsonb) as r(id uuid, leased_until timestamptz, status text, at timestamptz, provider_id text, provider_thread_id text, error text, next_at timestamptz)`,
    )
    .where(and(sql`${outboundMessages.id} = r.id`, sql`${outboundMessages.id} = any(${pgArray(records.map((r) => r.claimed.id))}::uuid[])`, sql`${outboundMessages.leasedUntil} = r.leased_until`))
    .returning();
  await executor.insert(outboundAttempts).values(
    records.map(({ claimed, result, attemptedAt, durationMs }) => ({
      outboundMessageId: claimed.id,
      attemptedAt,
      outcome: result.outcome,
      error: result.outcome === "sent" ? null : result.error,
      providerId: result.outcome === "sent" ? result.providerId : null,
      durationMs: Math.round(durationMs),
    })),
  );
  return written as OutboundRow[];
}

/** Gives claimed messages back unsent (a sender stopping, or their preparation failed): due again at once. */
export async function releaseOutbound(executor: Executor, claimed: ClaimedOutbound[]): Promise<void> {
  if (claimed.length === 0) return;
  const json = JSON.stringify(claimed.map((c) => ({ id: c.id, leased_until: c.leasedUntil.toISOString() })));
  await executor.execute(sql`
    update outbound_messages o set leased_until = null
      from jsonb_to_recordset(${json}::jsonb) as r(id uuid, leased_until timestamptz)
     where o.id = r.id and o.id = any(${pgArray(claimed.map((c) => c.id))}::uuid[]) and o.leased_until = r.leased_until`);
}

function statusAfter(result: SendResult): OutboundStatus {
  switch (result.outcome) {
    case "sent":
      return "sent";
    case "transient":
      return "queued";
    case "permanent":
      return "failed";
    case "waiting_for_authorization":
      return "waiting_for_authorization";
  }
}

/** A failed or waiting message queued again by a person (POST …/retry); null when it is in no state to retry. */
export async function requeueOutbound(executor: Executor, id: string, now: Date): Promise<OutboundRow | null> {
  const [row] = await executor
    .update(outboundMessages)
    .set({ status: "queued", nextAttemptAt: now, leasedUntil: null, updatedAt: now })
    .where(and(eq(outboundMessages.id, id), or(eq(outboundMessages.status, "failed"), eq(outboundMessages.status, "waiting_for_authorization"))))
    .returning();
  return row ?? null;
}

/** After a source is authorized again, what waited for it goes back in the queue; answers how many. */
export async function requeueWaitingForSource(executor: Executor, sourceId: string, now: Date): Promise<number> {
  const rows = await executor
    .update(outboundMessages)
    .set({ status: "queued", nextAttemptAt: now, updatedAt: now })
    .where(and(eq(outboundMessages.sourceId, sourceId), eq(outboundMessages.status, "waiting_for_authorization")))
    .returning({ id: outboundMessages.id });
  return rows.length;
}

/** Acknowledgements queued for each address since `since`: what the per-sender limit counts. */
export async function acknowledgementsSince(executor: Executor, recipients: string[], since: Date): Promise<Map<string, number>> {
  if (recipients.length === 0) return new Map();
  const rows = await queryRows<{ recipient: string; n: number }>(
    executor,
    sql`select recipient, count(*)::int as n from outbound_messages
         where kind = 'acknowledgement' and recipient = any(${pgArray(recipients)}::text[])
           and created_at > ${since.toISOString()}::timestamptz
         group by recipient`,
  );
  return new Map(rows.map((r) => [r.recipient, Number(r.n)]));
}

export type OutboundFilter = { ticketId?: string; status?: OutboundStatus; kind?: OutboundKind };

/** Newest first, by (createdAt, id) cursor. */
export async function listOutbound(executor: Executor, filter: OutboundFilter, page: Page): Promise<OutboundRow[]> {
  return executor
    .select()
    .from(outboundMessages)
    .where(
      and(
        filter.ticketId ? eq(outboundMessages.ticketId, filter.ticketId) : undefined,
        filter.status ? eq(outboundMessages.status, filter.status) : undefined,
        filter.kind ? eq(outboundMessages.kind, filter.kind) : undefined,
        pageWhere(page, outboundMessages.createdAt, outboundMessages.id),
      ),
    )
    .orderBy(...pageOrder(outboundMessages.createdAt, outboundMessages.id))
    .limit(page.limit + 1);
}

export async function findOutbound(executor: Executor, id: string): Promise<OutboundRow | null> {
  const [row] = await executor.select().from(outboundMessages).where(eq(outboundMessages.id, id));
  return row ?? null;
}

export async function attemptsOf(executor: Executor, ids: string[]): Promise<Map<string, (typeof outboundAttempts.$inferSelect)[]>> {
  const byMessage = new Map<string, (typeof outboundAttempts.$inferSelect)[]>();
  if (ids.length === 0) return byMessage;
  const rows = await executor
    .select()
    .from(outboundAttempts)
    .where(sql`${outboundAttempts.outboundMessageId} = any(${pgArray(ids)}::uuid[])`)
    .orderBy(outboundAttempts.attemptedAt);
  for (const r of rows) byMessage.set(r.outboundMessageId, [...(byMessage.get(r.outboundMessageId) ?? []), r]);
  return byMessage;
}

/** The provider thread of the ticket's last mail sent through this source (Gmail's threadId), so a reply joins it. */
export async function lastProviderThread(executor: Executor, ticketId: string, sourceId: string): Promise<string | null> {
  const [row] = await executor
    .select({ thread: outboundMessages.providerThreadId })
    .from(outboundMessages)
    .where(and(eq(outboundMessages.ticketId, ticketId), eq(outboundMessages.sourceId, sourceId), sql`${outboundMessages.providerThreadId} is not null`))
    .orderBy(sql`${outboundMessages.sentAt} desc nulls last`)
    .limit(1);
  return row?.thread ?? null;
}
