// The read side of tickets: lists, one ticket with its messages and their attachments, and
// attachment bytes. (The write side is ticket-store.ts.)
import { and, asc, eq, gte, ilike, inArray, lt, or, sql, type SQL } from "drizzle-orm";
import type { Executor } from "./client.ts";
import { attachmentBlobs, attachments, ticketMessages, tickets } from "./schema.ts";
import type { Page } from "../http/pagination.ts";
import { pageOrder, pageWhere } from "../http/pagination.ts";
import { safeAttachmentFilename } from "../pipeline/attachment-filename.ts";

import type { TicketStatus } from "./statuses.ts";
export { TICKET_STATUSES, type TicketStatus } from "./statuses.ts";

const ticketColumns = {
  id: tickets.id,
  number: tickets.number,
  subject: tickets.subject,
  status: tickets.status,
  priority: tickets.priority,
  jobType: tickets.jobType,
  companyId: tickets.companyId,
  contactId: tickets.contactId,
  assigneeId: tickets.assigneeId,
  sourceId: tickets.sourceId,
  unmapped: tickets.unmapped,
  createdAt: tickets.createdAt,
  updatedAt: tickets.updatedAt,
  closedAt: tickets.closedAt,
};

export type TicketSummary = {
  id: string;
  number: number;
  subject: string;
  status: string;
  priority: string;
  jobType: string;
  companyId: string | null;
  contactId: string | null;
  assigneeId: string | null;
  sourceId: string | null;
  unmapped: boolean;
  createdAt: Date;
  updatedAt: Date;
  closedAt: Date | null;
};

export type AttachmentSummary = {
  id: string;
  filename: string;
  originalFilename: string | null;
  contentType: string;
  size: number;
  sha256: string;
  contentId: string | null;
  inline: boolean;
};

export type SkippedAttachmentSummary = { filename: string; originalFilename: string | null; contentType: string; size: number; reason: string };

export type TicketMessage = {
  id: string;
  /** The stored email this message was made from (its raw bytes: GET /api/inbound-messages/:id/raw); null for outbound. */
  inboundMessageId: string | null;
  /** inbound: mail that came in; outbound: a reply or acknowledgement mailgate sent (see outboundMessageId). */
  direction: string;
  outboundMessageId: string | null;
  kind: string;
  from: string;
  fromName: string | null;
  to: unknown;
  cc: unknown;
  subject: string;
  text: string | null;
  html: string | null;
  messageId: string;
  receivedAt: Date;
  skippedAttachments: SkippedAttachmentSummary[];
  attachments: AttachmentSummary[];
};

export type TicketDetail = TicketSummary & { messages: TicketMessage[] };

/**
 * `from` is inclusive and `to` exclusive (on createdAt), so consecutive windows never list a
 * ticket twice. `q` is a piece of the subject or of a sender: the address or name on any mail
 * that came in on the ticket (any case); all digits, it also finds the ticket of that number.
 */
export type TicketFilter = {
  companyId?: string;
  sourceId?: string;
  status?: TicketStatus;
  unmapped?: boolean;
  from?: Date;
  to?: Date;
  q?: string;
};

/** A ticket in a list: who wrote it first beside it, so a list can be read without opening each one. */
export type TicketListItem = TicketSummary & { from: string | null; fromName: string | null };

/** Newest first; one row more than the page holds, so the caller knows whether another page follows. */
export async function listTickets(executor: Executor, filter: TicketFilter, page: Page): Promise<TicketListItem[]> {
  const conditions: (SQL | undefined)[] = [
    filter.companyId ? eq(tickets.companyId, filter.companyId) : undefined,
    filter.sourceId ? eq(tickets.sourceId, filter.sourceId) : undefined,
    filter.status ? eq(tickets.status, filter.status) : undefined,
    filter.unmapped === undefined ? undefined : eq(tickets.unmapped, filter.unmapped),
    filter.from ? gte(tickets.createdAt, filter.from) : undefined,
    filter.to ? lt(tickets.createdAt, filter.to) : undefined,
    filter.q ? matchesSearch(filter.q) : undefined,
    pageWhere(page, tickets.createdAt, tickets.id),
  ];
  // The first mail's sender, read by the ticket's own index for the page's rows only. (Spelt out:
  // in a select list drizzle writes a column without its table, which here would be m's own id.)
  const first = (column: "from_address" | "from_name") =>
    sql<string | null>`(select m.${sql.identifier(column)} from ticket_messages m where m.ticket_id = tickets.id
                         order by m.received_at, m.created_at, m.id limit 1)`;
  return executor
    .select({ ...ticketColumns, from: first("from_address"), fromName: first("from_name") })
    .from(tickets)
    .where(and(...conditions))
    .orderBy(...pageOrder(tickets.createdAt, tickets.id))
    .limit(page.limit + 1);
}

/** `%`, `_` and `\` in what a person typed are matched as themselves, not as LIKE wildcards. */
const likePattern = (q: string) => `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

function matchesSearch(q: string): SQL | undefined {
  const pattern = likePattern(q);
  const number = /^#?\d{1,15}$/.test(q) ? Number(q.replace("#", "")) : null;
  return or(
    ilike(tickets.subject, pattern),
    sql`exists (select 1 from ${ticketMessages} m
                 where m.ticket_id = tickets.id and m.direction = 'inbound'
                   and (m.from_address ilike ${pattern} or m.from_name ilike ${pattern}))`,
    number === null ? undefined : eq(tickets.number, number),
  );
}

export async function ticketExists(executor: Executor, id: string): Promise<boolean> {
  const [row] = await executor.select({ id: tickets.id }).from(tickets).where(eq(tickets.id, id));
  return row !== undefined;
}

/** Three queries whatever the number of messages: the ticket, its messages, all their attachments. */
export async function findTicketDetail(executor: Executor, id: string): Promise<TicketDetail | null> {
  const [ticket] = await executor.select(ticketColumns).from(tickets).where(eq(tickets.id, id));
  if (!ticket) return null;
  const messages = await executor
    .select({
      id: ticketMessages.id,
      inboundMessageId: ticketMessages.inboundMessageId,
      direction: ticketMessages.direction,
      outboundMessageId: ticketMessages.outboundMessageId,
      kind: ticketMessages.kind,
      from: ticketMessages.fromAddress,
      fromName: ticketMessages.fromName,
      to: ticketMessages.to,
      cc: ticketMessages.cc,
      subject: ticketMessages.subject,
      text: ticketMessages.text,
      html: ticketMessages.html,
      messageId: ticketMessages.messageId,
      receivedAt: ticketMessages.receivedAt,
      skippedAttachments: ticketMessages.skippedAttachments,
    })
    .from(ticketMessages)
    .where(eq(ticketMessages.ticketId, id))
    .orderBy(asc(ticketMessages.receivedAt), asc(ticketMessages.createdAt), asc(ticketMessages.id));
  const files =
    messages.length === 0
      ? []
      : await executor
          .select({
            ticketMessageId: attachments.ticketMessageId,
            id: attachments.id,
            filename: attachments.filename,
            originalFilename: attachments.originalFilename,
            contentType: attachments.contentType,
            size: attachments.size,
            sha256: attachments.sha256,
            contentId: attachments.contentId,
            inline: attachments.inline,
          })
          .from(attachments)
          .where(inArray(attachments.ticketMessageId, messages.map((m) => m.id)))
          .orderBy(asc(attachments.createdAt), asc(attachments.id));
  const byMessage = new Map<string, AttachmentSummary[]>();
  for (const { ticketMessageId, ...file } of files) {
    const list = byMessage.get(ticketMessageId) ?? [];
    // Made safe again when read: rows stored before names were made safe on arrival hold the raw one.
    list.push({ ...file, filename: safeAttachmentFilename(file.filename, file.contentType) });
    byMessage.set(ticketMessageId, list);
  }
  return {
    ...ticket,
    messages: messages.map((m) => ({ ...m, skippedAttachments: skippedOf(m.skippedAttachments), attachments: byMessage.get(m.id) ?? [] })),
  };
}

type StoredSkip = { filename?: unknown; originalFilename?: unknown; contentType?: unknown; size?: unknown; reason?: unknown };

/**
 * Skipped attachments as the API shows them. Entries stored before names were made safe on
 * arrival have no originalFilename, and their reason starts with the raw name: both made safe here.
 */
function skippedOf(stored: unknown): SkippedAttachmentSummary[] {
  if (!Array.isArray(stored)) return [];
  return stored.map((value: unknown) => {
    const entry: StoredSkip = value !== null && typeof value === "object" ? value : {};
    const raw = typeof entry.filename === "string" ? entry.filename : "";
    const contentType = typeof entry.contentType === "string" ? entry.contentType : "application/octet-stream";
    const filename = safeAttachmentFilename(raw, contentType);
    const reason = typeof entry.reason === "string" ? entry.reason : "";
    return {
      filename,
      originalFilename: "originalFilename" in entry ? (entry.originalFilename as string | null) : raw,
      contentType,
      size: typeof entry.size === "number" ? entry.size : 0,
      reason: raw !== "" && reason.startsWith(raw) ? filename + reason.slice(raw.length) : reason,
    };
  });
}

export type AttachmentContent = { filename: string; contentType: string; content: Buffer };

/** The stored name as it is: the route makes it safe, as the ticket's listing does. */
export async function findAttachmentContent(executor: Executor, id: string): Promise<AttachmentContent | null> {
  const [row] = await executor
    .select({ filename: attachments.filename, contentType: attachments.contentType, content: attachmentBlobs.content })
    .from(attachments)
    .innerJoin(attachmentBlobs, eq(attachmentBlobs.sha256, attachments.sha256))
    .where(eq(attachments.id, id));
  return row ?? null;
}
