// The write side of tickets: a new ticket, a message on it (initial or note) with its
// attachments (bytes content-addressed by SHA-256, staged for the batch's write), reopening,
// participants.
import { randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import { pgArray, queryRows, type Executor } from "./client.ts";
import type { PendingWrites } from "./pending-writes.ts";
import { withPlannerMethodsOff } from "./planner.ts";
import type { Address, ParsedAttachment } from "../pipeline/parse-email.ts";
import type { Priority } from "../settings/ticket-rules.ts";

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

export type TicketSender = { companyId: string; email: string; name: string; create: boolean };

export type InsertedTicket = { id: string; number: number; contact: Contact | null };

/**
 * New tickets, each with its sender as contact: the contacts found (or created when the rules
 * say so) and the tickets inserted in ONE statement. A second statement runs only when another
 * worker created one of the contacts a moment ago.
 *
 * New contacts are inserted in one order, whatever the order of the mails: by company, then
 * address. A new contact stays locked until its batch commits, and another batch creating the
 * same contact waits for that. Two batches that created the same two new contacts in opposite
 * orders each waited for the other: a deadlock, which Postgres breaks after a second by failing
 * one batch, whose mails were then processed again one by one. In one order, the second batch
 * waits for the first and goes on.
 */
export async function insertTickets(executor: Executor, requests: { ticket: NewTicket; sender: TicketSender | null }[]): Promise<InsertedTicket[]> {
  if (requests.length === 0) return [];
  const rows = requests.map(({ ticket: t, sender }, ord) => ({
    id: randomUUID(),
    ord,
    subject: t.subject,
    priority: t.priority,
    job_type: t.jobType,
    company_id: t.companyId,
    assignee_id: t.assigneeId,
    source_id: t.sourceId,
    unmapped: t.unmapped,
    participants: t.participants,
    at: t.at.toISOString(),
    contact_company_id: sender?.companyId ?? null,
    contact_email: sender?.email ?? null,
    contact_name: sender?.name || null,
    create_contact: sender?.create ?? false,
  }));
  const inserted = await queryRows<{ id: string; number: string | number; contact_id: string | null; contact_email: string | null; contact_name: string | null }>(
    executor,
    sql`with q as (select * from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
                     as q(id uuid, ord int, subject text, priority text, job_type text, company_id uuid, assignee_id uuid, source_id uuid, unmapped boolean,
                          participants jsonb, at timestamptz, contact_company_id uuid, contact_email text, contact_name text, create_contact boolean)),
             found as (select q.id as ticket_id, c.id, c.email, c.name from q
                        cross join lateral (select id, email, name from contacts c
                                             where c.company_id = q.contact_company_id and c.email = q.contact_email limit 1) c),
             created as (insert into contacts (company_id, email, name)
                          select distinct on (q.contact_company_id, q.contact_email) q.contact_company_id, q.contact_email, q.contact_name
                            from q
                           where q.create_contact and q.contact_email is not null and not exists (select 1 from found f where f.ticket_id = q.id)
                           order by q.contact_company_id, q.contact_email
                          on conflict (company_id, email) do nothing
                          returning id, company_id, email, name),
             contact as (select q.id as ticket_id, coalesce(f.id, c.id) as id, coalesce(f.email, c.email) as email,
                                case when f.id is not null then f.name else c.name end as name
                           from q left join found f on f.ticket_id = q.id
                                  left join created c on c.company_id = q.contact_company_id and c.email = q.contact_email),
             t as (insert into tickets (id, subject, priority, job_type, company_id, contact_id, assignee_id, source_id, unmapped, participants, created_at, updated_at)
                   select q.id, q.subject, q.priority, q.job_type, q.company_id, ct.id, q.assignee_id, q.source_id, q.unmapped, q.participants, q.at, q.at
                     from q join contact ct on ct.ticket_id = q.id
                    order by q.ord
                   returning id, number)
        select t.id, t.number, ct.id as contact_id, ct.email as contact_email, ct.name as contact_name from t join contact ct on ct.ticket_id = t.id`,
  );
  const byId = new Map(inserted.map((r) => [r.id, r]));
  return Promise.all(
    rows.map(async (r, i) => {
      const row = byId.get(r.id);
      if (!row) throw new Error("ticket insert returned nothing");
      const sender = requests[i]!.sender;
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
    }),
  );
}

export type NewTicketMessage = {
  ticketId: string;
  /** The mail it came in as; null for mail mailgate sent (then `outboundMessageId`). */
  inboundMessageId: string | null;
  outboundMessageId?: string;
  kind: "initial" | "reply" | "auto_reply" | "bounce";
  from: Address;
  to: Address[];
  cc: Address[];
  subject: string;
  text: string | null;
  html: string | null;
  messageId: string;
  /** The Message-ID as its sender wrote it, when its case differs from `messageId`. */
  messageIdAsWritten?: string | null;
  receivedAt: Date;
  saved: ParsedAttachment[];
  skipped: SkippedAttachment[];
};

/** An attachment the rules did not keep, listed on its message with the reason. */
export type SkippedAttachment = { filename: string; originalFilename: string | null; contentType: string; size: number; reason: string };

export type StoredAttachment = {
  id: string;
  filename: string;
  originalFilename: string | null;
  contentType: string;
  size: number;
  sha256: string;
  contentId: string | null;
  inline: boolean;
};

/**
 * Stages a message and its attachments for the batch's write (see pending-writes.ts). Ids are
 * made here, so events can name them before anything is written.
 */
export function stageTicketMessage(writes: PendingWrites, m: NewTicketMessage): { id: string; attachments: StoredAttachment[] } {
  const id = randomUUID();
  const stored: StoredAttachment[] = m.saved.map((a) => ({
    id: randomUUID(),
    filename: a.filename,
    originalFilename: a.originalFilename,
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
    direction: m.outboundMessageId ? "outbound" : "inbound",
    outboundMessageId: m.outboundMessageId ?? null,
    kind: m.kind,
    fromAddress: m.from.address,
    fromName: m.from.name || null,
    to: m.to,
    cc: m.cc,
    subject: m.subject,
    text: m.text,
    html: m.html,
    messageId: m.messageId,
    messageIdAsWritten: m.messageIdAsWritten ?? null,
    receivedAt: m.receivedAt,
    skippedAttachments: m.skipped,
  });
  // One blob per distinct content, however many messages carry it.
  for (const a of m.saved) writes.blobs.set(a.sha256, { sha256: a.sha256, size: a.size, content: a.content });
  writes.attachments.push(...stored.map((a) => ({ ...a, ticketMessageId: id })));
  return { id, attachments: stored };
}

export type TouchedTicket = { id: string; number: number; subject: string; status: string; companyId: string | null; reopened: boolean };

export type TouchRequest = { ticketId: string; participants: string[]; reopen: boolean; at: Date };

/**
 * Adds participants to tickets and reopens closed ones when asked, in one statement; answers each
 * ticket as it is now (null: it is gone), in the order asked. The tickets are locked in the order
 * of their ids. Of several asks that reopen one closed ticket, the first asked reopened it.
 */
export async function touchTickets(executor: Executor, requests: TouchRequest[]): Promise<(TouchedTicket | null)[]> {
  if (requests.length === 0) return [];
  const json = JSON.stringify(requests.map((r) => ({ ticket_id: r.ticketId, participants: r.participants, reopen: r.reopen, at: r.at.toISOString() })));
  // The tickets are found by their key, named as an array, and planned without sequential scans:
  // the pipeline's plans are made once per connection (generic), and one made while the table was
  // young read the whole tickets table twice a batch until autovacuum next analysed it.
  const ids = pgArray([...new Set(requests.map((r) => r.ticketId))]);
  const rows = await withPlannerMethodsOff<{ id: string; number: string | number; subject: string; status: string; company_id: string | null; was_closed: boolean }>(
    executor,
    ["enable_seqscan"],
    sql`with q as (select * from jsonb_to_recordset(${json}::jsonb) as q(ticket_id uuid, participants jsonb, reopen boolean, at timestamptz)),
             asked as (select q.ticket_id, bool_or(q.reopen) as reopen, max(q.at) as at,
                              coalesce(jsonb_agg(p) filter (where p is not null), '[]'::jsonb) as participants
                         from q left join lateral jsonb_array_elements(q.participants) p on true
                        group by q.ticket_id),
             old as (select t.id, t.status from tickets t where t.id = any(${ids}::uuid[]) order by t.id for update)
        update tickets t
           set participants = (select coalesce(jsonb_agg(distinct p), '[]'::jsonb)
                                 from jsonb_array_elements_text(t.participants || asked.participants) p),
               status = case when asked.reopen then 'open' else t.status end,
               closed_at = case when asked.reopen then null else t.closed_at end,
               updated_at = asked.at
          from old, asked
         where t.id = old.id and asked.ticket_id = old.id and t.id = any(${ids}::uuid[])
     returning t.id, t.number, t.subject, t.status, t.company_id, old.status = 'closed' as was_closed`,
  );
  const byId = new Map(rows.map((r) => [r.id, r]));
  const reopenedBy = new Set<string>();
  return requests.map((r) => {
    const row = byId.get(r.ticketId);
    if (!row) return null;
    const reopened = r.reopen && row.was_closed && !reopenedBy.has(r.ticketId);
    if (reopened) reopenedBy.add(r.ticketId);
    return { id: r.ticketId, number: Number(row.number), subject: row.subject, status: row.status, companyId: row.company_id, reopened };
  });
}

/** Turns of a shared counter, in order: fair round robin across concurrent workers and instances. */
export async function takeRoundRobinTurns(executor: Executor, count: number): Promise<number[]> {
  if (count === 0) return [];
  const rows = await queryRows<{ n: string | number }>(executor, sql`select nextval('round_robin_seq') as n from generate_series(1, ${count}::int)`);
  return rows.map((r) => Number(r.n)).sort((a, b) => a - b);
}
