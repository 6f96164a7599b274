// The write side of tickets: a new ticket, a message on it (initial or note) with its
// attachments (bytes content-addressed by SHA-256, staged for the batch's write), reopening,
// participants.
import { randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import { queryRows, type Executor } from "./client.js";
import type { PendingWrites } from "./pending-writes.js";
import type { Address, ParsedAttachment } from "../pipeline/parse-email.js";
import type { Priority } from "../settings/ticket-rules.js";

export type NewTicket = {
  subject: string;
  priority: Priority;
  jobType: string;
  companyId: string;
  assigneeId: string | null;
  sourceId: string | null;
  unmapped: boolean;
  participants: string[];
  at: Date;
};

type Contact = { id: string; email: string; name: string | null };

/**
 * A new ticket with the sender as its contact: the contact found (or created when the rules say
 * so) and the ticket inserted in ONE statement. A second statement runs only when another worker
 * created the same contact a moment ago.
 */
export async function insertTicket(
  executor: Executor,
  t: NewTicket,
  sender: { companyId: string; email: string; name: string; create: boolean } | null,
): Promise<{ id: string; number: number; contact: Contact | null }> {
  const at = t.at.toISOString();
  const contactOf = sender
    ? sql`with found as (select id, email, name from contacts where company_id = ${sender.companyId} and email = ${sender.email} limit 1),
               created as (insert into contacts (company_id, email, name)
                           select ${sender.companyId}, ${sender.email}, ${sender.name || null} where ${sender.create} and not exists (select 1 from found)
                           on conflict (company_id, email) do nothing
                           returning id, email, name),
               contact as (select * from found union all select * from created limit 1)`
    : sql`with contact as (select null::uuid as id, null::text as email, null::text as name where false)`;
  const [row] = await queryRows<{ id: string; number: string | number; contact_id: string | null; contact_email: string | null; contact_name: string | null }>(
    executor,
    sql`${contactOf},
        t as (insert into tickets (subject, priority, job_type, company_id, contact_id, assignee_id, source_id, unmapped, participants, created_at, updated_at)
              values (${t.subject}, ${t.priority}, ${t.jobType}, ${t.companyId}::uuid, (select id from contact), ${t.assigneeId}::uuid, ${t.sourceId}::uuid,
                      ${t.unmapped}, ${JSON.stringify(t.participants)}::jsonb, ${at}::timestamptz, ${at}::timestamptz)
              returning id, number)
        select t.id, t.number, c.id as contact_id, c.email as contact_email, c.name as contact_name from t left join contact c on true`,
  );
  if (!row) throw new Error("ticket insert returned nothing");
  let contact: Contact | null = row.contact_id ? { id: row.contact_id, email: row.contact_email!, name: row.contact_name } : null;
  if (!contact && sender?.create) {
    // Created by a concurrent transaction after this statement began: it is there now.
    [contact = null] = await queryRows<Contact>(
      executor,
      sql`update tickets set contact_id = c.id from contacts c
           where tickets.id = ${row.id}::uuid and c.company_id = ${sender.companyId}::uuid and c.email = ${sender.email}
       returning c.id, c.email, c.name`,
    );
  }
  return { id: row.id, number: Number(row.number), contact };
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
 * Stages a message and its attachments for the batch's write (see pending-writes.ts). Ids are
 * made here, so events can name them before anything is written.
 */
export function stageTicketMessage(writes: PendingWrites, m: NewTicketMessage): { id: string; attachments: StoredAttachment[] } {
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
  writes.messages.push({
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
  });
  // One blob per distinct content, however many messages carry it.
  for (const a of m.saved) writes.blobs.set(a.sha256, { sha256: a.sha256, size: a.size, content: a.content });
  writes.attachments.push(...stored.map((a) => ({ ...a, ticketMessageId: id })));
  return { id, attachments: stored };
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

/** A shared counter: fair round robin across concurrent workers and instances. */
export async function nextRoundRobin(executor: Executor): Promise<number> {
  const rows = await queryRows<{ n: string | number }>(executor, sql`select nextval('round_robin_seq') as n`);
  return Number(rows[0]?.n ?? 0);
}
