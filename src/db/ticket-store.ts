// The write side of tickets: a new ticket, a message on it (initial or note) with its
// attachments (bytes content-addressed by SHA-256), reopening, participants.
import { randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import type { Executor } from "./client.js";
import { attachmentBlobs, attachments, ticketMessages, tickets } from "./schema.js";
import { queryRows } from "./client.js";
import type { Address, ParsedAttachment } from "../pipeline/parse-email.js";
import type { Priority } from "../settings/ticket-rules.js";

export type NewTicket = {
  subject: string;
  priority: Priority;
  jobType: string;
  companyId: string;
  contactId: string | null;
  assigneeId: string | null;
  sourceId: string | null;
  unmapped: boolean;
  participants: string[];
  at: Date;
};

export async function insertTicket(executor: Executor, t: NewTicket): Promise<{ id: string; number: number }> {
  const [row] = await executor
    .insert(tickets)
    .values({ ...t, createdAt: t.at, updatedAt: t.at })
    .returning({ id: tickets.id, number: tickets.number });
  if (!row) throw new Error("ticket insert returned nothing");
  return row;
}

export type NewTicketMessage = {
  ticketId: string;
  inboundMessageId: string;
  kind: "initial" | "reply" | "auto_reply" | "bounce";
  from: Address;
  to: Address[];
  cc: Address[];
  subject: string;
  text: string | null;
  html: string | null;
  messageId: string;
  receivedAt: Date;
  saved: ParsedAttachment[];
  skipped: { filename: string; contentType: string; size: number; reason: string }[];
};

export type StoredAttachment = { id: string; filename: string; contentType: string; size: number; sha256: string; contentId: string | null; inline: boolean };

/**
 * Inserts a message and its attachments. Ids are made here, so the statements do not wait for
 * each other: postgres.js pipelines them in one network round trip.
 */
export function insertTicketMessage(
  executor: Executor,
  m: NewTicketMessage,
): { id: string; attachments: StoredAttachment[]; written: Promise<unknown> } {
  const id = randomUUID();
  const stored: StoredAttachment[] = m.saved.map((a) => ({
    id: randomUUID(),
    filename: a.filename,
    contentType: a.contentType,
    size: a.size,
    sha256: a.sha256,
    contentId: a.contentId,
    inline: a.inline,
  }));
  const writes: Promise<unknown>[] = [
    executor.insert(ticketMessages).values({
      id,
      ticketId: m.ticketId,
      inboundMessageId: m.inboundMessageId,
      kind: m.kind,
      fromAddress: m.from.address,
      fromName: m.from.name || null,
      to: m.to,
      cc: m.cc,
      subject: m.subject,
      text: m.text,
      html: m.html,
      messageId: m.messageId,
      receivedAt: m.receivedAt,
      skippedAttachments: m.skipped,
    }),
  ];
  if (m.saved.length > 0) {
    // One blob per distinct content, however many messages carry it.
    const blobs = new Map(m.saved.map((a) => [a.sha256, a]));
    writes.push(
      executor
        .insert(attachmentBlobs)
        .values([...blobs.values()].map((a) => ({ sha256: a.sha256, size: a.size, content: a.content })))
        .onConflictDoNothing(),
      executor.insert(attachments).values(stored.map((a) => ({ ...a, ticketMessageId: id }))),
    );
  }
  return { id, attachments: stored, written: Promise.all(writes) };
}

export type TouchedTicket = { id: string; number: number; subject: string; status: string; companyId: string | null; reopened: boolean };

/** Adds participants and reopens a closed ticket when asked; answers the ticket as it is now. */
export async function touchTicket(
  executor: Executor,
  ticketId: string,
  opts: { participants: string[]; reopen: boolean; at: Date },
): Promise<TouchedTicket | null> {
  const rows = await queryRows<{ number: string | number; subject: string; status: string; company_id: string | null; was_closed: boolean }>(
    executor,
    sql`with old as (select status from tickets where id = ${ticketId} for update)
        update tickets t
           set participants = (select coalesce(jsonb_agg(distinct p), '[]'::jsonb)
                                 from jsonb_array_elements_text(t.participants || ${JSON.stringify(opts.participants)}::jsonb) p),
               status = case when ${opts.reopen} then 'open' else t.status end,
               closed_at = case when ${opts.reopen} then null else t.closed_at end,
               updated_at = ${opts.at.toISOString()}::timestamptz
          from old
         where t.id = ${ticketId}
     returning t.number, t.subject, t.status, t.company_id, old.status = 'closed' as was_closed`,
  );
  const row = rows[0];
  if (!row) return null;
  return {
    id: ticketId,
    number: Number(row.number),
    subject: row.subject,
    status: row.status,
    companyId: row.company_id,
    reopened: opts.reopen && row.was_closed,
  };
}

/**
 * The sender as a contact of the company: found, or created when the rules say so. One round trip
 * in the usual case; a second only when another worker created the same contact a moment ago.
 */
export async function contactFor(
  executor: Executor,
  input: { companyId: string; email: string; name: string; create: boolean },
): Promise<{ id: string; email: string; name: string | null } | null> {
  type Contact = { id: string; email: string; name: string | null };
  const find = sql`select id, email, name from contacts where company_id = ${input.companyId} and email = ${input.email} limit 1`;
  if (!input.create) return (await queryRows<Contact>(executor, find))[0] ?? null;
  const [row] = await queryRows<Contact>(
    executor,
    sql`with found as (${find}),
             created as (insert into contacts (company_id, email, name)
                         select ${input.companyId}, ${input.email}, ${input.name || null} where not exists (select 1 from found)
                         on conflict (company_id, email) do nothing
                         returning id, email, name)
        select * from found union all select * from created`,
  );
  return row ?? (await queryRows<Contact>(executor, find))[0] ?? null;
}

/** A shared counter: fair round robin across concurrent workers and instances. */
export async function nextRoundRobin(executor: Executor): Promise<number> {
  const rows = await queryRows<{ n: string | number }>(executor, sql`select nextval('round_robin_seq') as n`);
  return Number(rows[0]?.n ?? 0);
}
