// The write side of tickets: a new ticket, a message on it (initial or note) with its
// attachments (bytes content-addressed by SHA-256), reopening, participants.
import { eq, sql } from "drizzle-orm";
import type { Executor } from "./client.js";
import { attachmentBlobs, attachments, jobTypes, ticketMessages, tickets } from "./schema.js";
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

export async function insertTicketMessage(
  executor: Executor,
  m: NewTicketMessage,
): Promise<{ id: string; attachments: StoredAttachment[] }> {
  const [row] = await executor
    .insert(ticketMessages)
    .values({
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
    })
    .returning({ id: ticketMessages.id });
  if (!row) throw new Error("ticket message insert returned nothing");
  if (m.saved.length === 0) return { id: row.id, attachments: [] };
  // One blob per distinct content, however many messages carry it.
  const blobs = new Map(m.saved.map((a) => [a.sha256, a]));
  await executor
    .insert(attachmentBlobs)
    .values([...blobs.values()].map((a) => ({ sha256: a.sha256, size: a.size, content: a.content })))
    .onConflictDoNothing();
  const stored = await executor
    .insert(attachments)
    .values(
      m.saved.map((a) => ({
        ticketMessageId: row.id,
        filename: a.filename,
        contentType: a.contentType,
        size: a.size,
        sha256: a.sha256,
        contentId: a.contentId,
        inline: a.inline,
      })),
    )
    .returning({
      id: attachments.id,
      filename: attachments.filename,
      contentType: attachments.contentType,
      size: attachments.size,
      sha256: attachments.sha256,
      contentId: attachments.contentId,
      inline: attachments.inline,
    });
  return { id: row.id, attachments: stored };
}

/** Adds participants, and reopens a closed ticket when asked; returns whether it was reopened. */
export async function touchTicket(
  executor: Executor,
  ticketId: string,
  opts: { participants: string[]; reopen: boolean; at: Date },
): Promise<{ reopened: boolean }> {
  const rows = await queryRows<{ was_closed: boolean }>(
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
     returning old.status = 'closed' as was_closed`,
  );
  return { reopened: opts.reopen && (rows[0]?.was_closed ?? false) };
}

export async function ticketSummary(executor: Executor, ticketId: string) {
  const [row] = await executor
    .select({ id: tickets.id, number: tickets.number, subject: tickets.subject, status: tickets.status, companyId: tickets.companyId })
    .from(tickets)
    .where(eq(tickets.id, ticketId));
  return row ?? null;
}

export async function jobTypeDefaultPriority(executor: Executor, name: string): Promise<Priority | null> {
  const [row] = await executor.select({ p: jobTypes.defaultPriority }).from(jobTypes).where(eq(jobTypes.name, name)).limit(1);
  return (row?.p as Priority | null | undefined) ?? null;
}

/** A shared counter: fair round robin across concurrent workers and instances. */
export async function nextRoundRobin(executor: Executor): Promise<number> {
  const rows = await queryRows<{ n: string | number }>(executor, sql`select nextval('round_robin_seq') as n`);
  return Number(rows[0]?.n ?? 0);
}
