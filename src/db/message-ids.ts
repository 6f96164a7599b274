// message_ids: every normalised Message-ID seen, once. Claiming one is the dedupe step; the
// routing facts look them up for the header half of thread matching (the link to the ticket is
// written with the batch, pending-writes.ts).
import { and, eq, isNull, sql } from "drizzle-orm";
import { pgArray, queryRows, type Executor } from "./client.ts";
import { messageIds } from "./schema.ts";

export type MessageIdClaim = { kind: "claimed" } | { kind: "taken"; inboundMessageId: string | null; ticketId: string | null };

type Owner = { inboundMessageId: string | null; ticketId: string | null };

/**
 * The dedupe claim of a batch's mails, in the order given: an insert on the primary key, in ONE
 * statement. A second worker inserting the same id waits for the first transaction, then
 * conflicts. The ids are inserted in their own order, not the mails' (the same for every batch),
 * so two batches holding copies of the same two mails (one email to two mailboxes) never wait for
 * each other in a circle. A mail reprocessed finds its own claim and keeps it.
 */
export async function claimMessageIds(executor: Executor, mails: { messageId: string; inboundMessageId: string }[]): Promise<MessageIdClaim[]> {
  if (mails.length === 0) return [];
  const input = JSON.stringify(mails.map((m, ord) => ({ ord, message_id: m.messageId, inbound_id: m.inboundMessageId })));
  const rows = await queryRows<{ claimed: boolean; owner: Owner | string | null }>(
    executor,
    sql`with q as (select * from jsonb_to_recordset(${input}::jsonb) as q(ord int, message_id text, inbound_id uuid)),
             claim as (insert into message_ids (message_id, inbound_message_id)
                       select message_id, inbound_id from q order by message_id, ord
                       on conflict do nothing returning inbound_message_id)
        select exists(select 1 from claim c where c.inbound_message_id = q.inbound_id) as claimed,
               (select json_build_object('inboundMessageId', m.inbound_message_id, 'ticketId', m.ticket_id)
                  from message_ids m where m.message_id = q.message_id) as owner
          from q order by q.ord`,
  );
  // No owner in sight: a concurrent transaction, or an earlier copy in this statement, inserted
  // it after the statement's snapshot was taken. It is visible now.
  const unseen = mails.filter((_, i) => !rows[i]!.claimed && rows[i]!.owner === null).map((m) => m.messageId);
  const later = new Map<string, Owner>();
  if (unseen.length > 0) {
    const found = await executor.select().from(messageIds).where(sql`${messageIds.messageId} = any(${pgArray(unseen)}::text[])`);
    for (const m of found) later.set(m.messageId, m);
  }
  return mails.map((mail, i) => {
    const row = rows[i]!;
    if (row.claimed) return { kind: "claimed" };
    const owner = row.owner === null ? later.get(mail.messageId) : typeof row.owner === "string" ? (JSON.parse(row.owner) as Owner) : row.owner;
    if (!owner || owner.inboundMessageId === mail.inboundMessageId) return { kind: "claimed" }; // a reprocess of the owner
    return { kind: "taken", inboundMessageId: owner.inboundMessageId, ticketId: owner.ticketId };
  });
}

/** Undoes a claim that led nowhere yet (the message was held). */
export async function releaseMessageId(executor: Executor, messageId: string, inboundMessageId: string): Promise<void> {
  await executor
    .delete(messageIds)
    .where(and(eq(messageIds.messageId, messageId), eq(messageIds.inboundMessageId, inboundMessageId), isNull(messageIds.ticketId)));
}
