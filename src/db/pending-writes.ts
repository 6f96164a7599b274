// The writes a batch of messages has decided on but nobody reads back in the same batch: messages
// and their attachments, outbox events (with their fan-out), Message-ID links and the inbound
// statuses. They are collected while the pipeline decides, then written with one statement per
// table for the whole batch, still inside its transaction: the statements a message costs drop
// from a dozen to the few whose answers it needs (dedupe claim, routing facts, contact, ticket).
import { sql } from "drizzle-orm";
import type { Executor } from "./client.js";
import { attachmentBlobs, attachments, ticketMessages } from "./schema.js";

type MessageRow = typeof ticketMessages.$inferInsert;
type AttachmentRow = typeof attachments.$inferInsert;
type BlobRow = { sha256: string; size: number; content: Buffer };

export type StagedEvent = { id: string; type: string; companyId: string | null; payload: string; at: Date };

export type StagedSettlement = {
  id: string;
  status: string;
  reason: string | null;
  error: string | null;
  ticketId: string | null;
  duplicateOf: string | null;
  messageId: string | null;
  fromAddress: string | null;
  subject: string | null;
};

export type PendingWrites = {
  messages: MessageRow[];
  blobs: Map<string, BlobRow>;
  attachments: AttachmentRow[];
  events: StagedEvent[];
  links: { messageId: string; ticketId: string }[];
  settlements: StagedSettlement[];
};

export const pendingWrites = (): PendingWrites => ({ messages: [], blobs: new Map(), attachments: [], events: [], links: [], settlements: [] });

/** Writes everything staged, in an order the foreign keys accept, in one round trip. */
export async function flushPendingWrites(executor: Executor, w: PendingWrites, now: Date): Promise<void> {
  const statements: Promise<unknown>[] = [];
  if (w.messages.length > 0) statements.push(executor.insert(ticketMessages).values(w.messages));
  if (w.blobs.size > 0) statements.push(executor.insert(attachmentBlobs).values([...w.blobs.values()]).onConflictDoNothing());
  if (w.attachments.length > 0) statements.push(executor.insert(attachments).values(w.attachments));
  if (w.events.length > 0) statements.push(insertEvents(executor, w.events));
  if (w.links.length > 0) {
    statements.push(
      executor.execute(sql`
        update message_ids m set ticket_id = l.ticket_id
          from jsonb_to_recordset(${JSON.stringify(w.links.map((l) => ({ message_id: l.messageId, ticket_id: l.ticketId })))}::jsonb)
               as l(message_id text, ticket_id uuid)
         where m.message_id = l.message_id`),
    );
  }
  if (w.settlements.length > 0) statements.push(settle(executor, w.settlements, now));
  // postgres.js sends them back to back on the transaction's connection; Postgres runs them in order.
  await Promise.all(statements);
}

/** The events and, in the same statement, one delivery per matching enabled endpoint. */
function insertEvents(executor: Executor, events: StagedEvent[]): Promise<unknown> {
  const rows = JSON.stringify(events.map((e) => ({ id: e.id, type: e.type, company_id: e.companyId, payload: e.payload, created_at: e.at.toISOString() })));
  return executor.execute(sql`
    with ev as (
      insert into events (id, type, company_id, payload, created_at)
      select id, type, company_id, payload::jsonb, created_at
        from jsonb_to_recordset(${rows}::jsonb) as x(id text, type text, company_id uuid, payload text, created_at timestamptz)
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
  const rows = JSON.stringify(
    settlements.map((s) => ({
      id: s.id,
      status: s.status,
      reason: s.reason,
      error: s.error,
      ticket_id: s.ticketId,
      duplicate_of: s.duplicateOf,
      message_id: s.messageId,
      from_address: s.fromAddress,
      subject: s.subject,
    })),
  );
  return executor.execute(sql`
    update inbound_messages m
       set status = s.status, reason = s.reason, error = s.error, ticket_id = s.ticket_id, duplicate_of = s.duplicate_of,
           message_id = s.message_id, from_address = s.from_address, subject = s.subject,
           attempts = m.attempts + 1, processed_at = ${now.toISOString()}::timestamptz
      from jsonb_to_recordset(${rows}::jsonb)
           as s(id uuid, status text, reason text, error text, ticket_id uuid, duplicate_of uuid, message_id text, from_address text, subject text)
     where m.id = s.id`);
}
