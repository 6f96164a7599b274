// The writes a batch of messages has decided on but nobody reads back in the same batch: messages
// and their attachments, outbox events (with their fan-out), Message-ID links and the inbound
// statuses. They are collected while the pipeline decides, then written with one statement per
// table for the whole batch, still inside its transaction: the statements a message costs drop
// from a dozen to the few whose answers it needs (dedupe claim, routing facts, contact, ticket).
import { sql } from "drizzle-orm";
import { pgArray, queryRows, type Executor } from "./client.ts";
import type { Settlement } from "./inbound-claims.ts";
import { attachmentBlobs, outboundMessages, type attachments, type ticketMessages } from "./schema.ts";

type MessageRow = typeof ticketMessages.$inferInsert;
type AttachmentRow = typeof attachments.$inferInsert;
type BlobRow = { sha256: string; size: number; content: Buffer };

export type StagedEvent = { id: string; type: string; companyId: string | null; payload: unknown; at: Date };

/** An inbound message's outcome, every field given (null where it has none). */
export type StagedSettlement = { id: string } & Required<Settlement>;

export type PendingWrites = {
  messages: MessageRow[];
  blobs: Map<string, BlobRow>;
  attachments: AttachmentRow[];
  events: StagedEvent[];
  links: { messageId: string; ticketId: string }[];
  settlements: StagedSettlement[];
  /** Acknowledgements of new tickets, queued for the outbox. */
  outbound: (typeof outboundMessages.$inferInsert)[];
};

export const pendingWrites = (): PendingWrites => ({ messages: [], blobs: new Map(), attachments: [], events: [], links: [], settlements: [], outbound: [] });

/** Writes everything staged, in an order the foreign keys accept, in one round trip (two with new files). */
export async function flushPendingWrites(executor: Executor, w: PendingWrites, now: Date): Promise<void> {
  // By hash, not in the order of the mails: two batches carrying the same two new files (a
  // signature's logo) in opposite orders would each wait for the other's uncommitted insert.
  const blobs = (await blobsNotStored(executor, [...w.blobs.values()])).sort((a, b) => (a.sha256 < b.sha256 ? -1 : a.sha256 > b.sha256 ? 1 : 0));
  const statements: Promise<unknown>[] = [];
  if (w.messages.length > 0) statements.push(insertMessages(executor, w.messages));
  if (blobs.length > 0) statements.push(executor.insert(attachmentBlobs).values(blobs).onConflictDoNothing());
  if (w.attachments.length > 0) statements.push(insertAttachments(executor, w.attachments));
  if (w.events.length > 0) statements.push(insertEvents(executor, w.events));
  if (w.links.length > 0) statements.push(linkMessageIds(executor, w.links));
  if (w.settlements.length > 0) statements.push(settle(executor, w.settlements, now));
  // A mail processed again keeps the acknowledgement it queued the first time (one per mail).
  if (w.outbound.length > 0) statements.push(executor.insert(outboundMessages).values(w.outbound).onConflictDoNothing());
  // postgres.js sends them back to back on the transaction's connection; Postgres runs them in order.
  await Promise.all(statements);
}

/**
 * The files the database does not hold yet. A file is stored once by its hash and never deleted,
 * and a signature's logo or a forwarded PDF comes back in mail after mail: asking first costs a
 * short round trip, where sending it again cost twice its size on the wire (bytea travels as hex)
 * and its encoding in the process, only for the insert to skip it. Another batch may be storing
 * the same new file right now: both send it, and the insert keeps one.
 */
export async function blobsNotStored(executor: Executor, blobs: BlobRow[]): Promise<BlobRow[]> {
  if (blobs.length === 0) return blobs;
  const stored = await queryRows<{ sha256: string }>(
    executor,
    sql`select sha256 from attachment_blobs where sha256 = any(${pgArray(blobs.map((b) => b.sha256))}::text[])`,
  );
  if (stored.length === 0) return blobs;
  const have = new Set(stored.map((r) => r.sha256));
  return blobs.filter((b) => !have.has(b.sha256));
}

// Rows travel as one JSON parameter, with the keys they have in the process (quoted names in the
// record definition): the statement text is the same for any number of rows, so it is prepared
// once, and no per-value query building happens in the process.
//
// An update joined to such rows also names its keys as an array (`= any(...)`): the planner
// cannot see how many rows the JSON holds, and without statistics on the table (a young install,
// a burst before autovacuum) it read the whole table into a hash join for every batch; with the
// array it can look the rows up by their index, but may still scan a table it believes small
// (message_ids did: linkMessageIds is an upsert instead, which always goes through the key).

/**
 * Points each Message-ID (claimed earlier in the batch) at its ticket. Written as an upsert, the
 * rows are found through the primary key whatever the planner believes: as an update joined to
 * the JSON rows, even with the keys also given as an array, a young table (stale statistics, a
 * first burst) was read whole for every batch.
 */
function linkMessageIds(executor: Executor, links: PendingWrites["links"]): Promise<unknown> {
  // One row per Message-ID: an upsert may not touch a row twice.
  const byMessageId = new Map(links.map((l) => [l.messageId, l]));
  return executor.execute(sql`
    insert into message_ids (message_id, ticket_id)
    select "messageId", "ticketId" from jsonb_to_recordset(${JSON.stringify([...byMessageId.values()])}::jsonb) as l("messageId" text, "ticketId" uuid)
    on conflict (message_id) do update set ticket_id = excluded.ticket_id`);
}

function insertMessages(executor: Executor, rows: MessageRow[]): Promise<unknown> {
  return executor.execute(sql`
    insert into ticket_messages (id, ticket_id, inbound_message_id, direction, outbound_message_id, kind, from_address, from_name, "to", cc, subject, text, html, message_id, message_id_as_written, received_at, skipped_attachments)
    select id, "ticketId", "inboundMessageId", direction, "outboundMessageId", kind, "fromAddress", "fromName", "to", cc, subject, text, html, "messageId", "messageIdAsWritten", "receivedAt", "skippedAttachments"
      from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
        as x(id uuid, "ticketId" uuid, "inboundMessageId" uuid, direction text, "outboundMessageId" uuid, kind text, "fromAddress" text, "fromName" text, "to" jsonb,
             cc jsonb, subject text, text text, html text, "messageId" text, "messageIdAsWritten" text, "receivedAt" timestamptz, "skippedAttachments" jsonb)`);
}

function insertAttachments(executor: Executor, rows: AttachmentRow[]): Promise<unknown> {
  return executor.execute(sql`
    insert into attachments (id, ticket_message_id, filename, original_filename, content_type, size, sha256, content_id, inline)
    select id, "ticketMessageId", filename, "originalFilename", "contentType", size, sha256, "contentId", inline
      from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
        as x(id uuid, "ticketMessageId" uuid, filename text, "originalFilename" text, "contentType" text, size integer, sha256 text, "contentId" text, inline boolean)`);
}

/** The events and, in the same statement, one delivery per matching enabled endpoint. */
function insertEvents(executor: Executor, events: StagedEvent[]): Promise<unknown> {
  return executor.execute(sql`
    with ev as (
      insert into events (id, type, company_id, payload, created_at)
      select id, type, "companyId", payload, at
        from jsonb_to_recordset(${JSON.stringify(events)}::jsonb) as x(id text, type text, "companyId" uuid, payload jsonb, at timestamptz)
      returning id, type, company_id, created_at
    )
    insert into webhook_deliveries (event_id, endpoint_id, next_attempt_at)
    select ev.id, e.id, ev.created_at
      from ev, webhook_endpoints e
     where e.enabled
       and (e.events is null or ev.type = any(e.events))
       and (e.company_id is null or e.company_id = ev.company_id)
    on conflict do nothing`);
}

function settle(executor: Executor, settlements: StagedSettlement[], now: Date): Promise<unknown> {
  return executor.execute(sql`
    update inbound_messages m
       set status = s.status, reason = s.reason, error = s.error, ticket_id = s."ticketId", duplicate_of = s."duplicateOf",
           message_id = s."messageId", from_address = s."fromAddress", subject = s.subject,
           attempts = m.attempts + 1, processed_at = ${now.toISOString()}::timestamptz
      from jsonb_to_recordset(${JSON.stringify(settlements)}::jsonb)
           as s(id uuid, status text, reason text, error text, "ticketId" uuid, "duplicateOf" uuid, "messageId" text, "fromAddress" text, subject text)
     where m.id = s.id and m.id = any(${pgArray(settlements.map((x) => x.id))}::uuid[])`);
}
