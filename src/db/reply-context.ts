// What an outgoing message on a ticket is built from, read in one place: the ticket, who it is
// for, its company, the Message-IDs of its thread in order, and the rules (subject tag,
// acknowledgement templates).
import { and, asc, eq } from "drizzle-orm";
import type { Executor } from "./client.ts";
import { companies, contacts, inboundMessages, ticketMessages, tickets } from "./schema.ts";
import { getTicketRules } from "./settings.ts";
import type { TicketRules } from "../settings/ticket-rules.ts";

export type ReplyContext = {
  ticket: { id: string; number: number; subject: string; companyId: string | null; sourceId: string | null };
  /** The ticket's contact, else the sender of its first mail: who a reply goes to. */
  customer: { address: string; name: string | null } | null;
  companyName: string | null;
  /** The Message-IDs of the ticket's messages, oldest first. */
  thread: string[];
  rules: TicketRules;
};

export async function loadReplyContext(executor: Executor, ticketId: string): Promise<ReplyContext | null> {
  const [row] = await executor
    .select({
      id: tickets.id,
      number: tickets.number,
      subject: tickets.subject,
      companyId: tickets.companyId,
      sourceId: tickets.sourceId,
      contactEmail: contacts.email,
      contactName: contacts.name,
      companyName: companies.name,
    })
    .from(tickets)
    .leftJoin(contacts, eq(contacts.id, tickets.contactId))
    .leftJoin(companies, eq(companies.id, tickets.companyId))
    .where(eq(tickets.id, ticketId));
  if (!row) return null;
  const messages = await executor
    .select({ messageId: ticketMessages.messageId, from: ticketMessages.fromAddress, fromName: ticketMessages.fromName, direction: ticketMessages.direction })
    .from(ticketMessages)
    .where(and(eq(ticketMessages.ticketId, ticketId)))
    .orderBy(asc(ticketMessages.receivedAt), asc(ticketMessages.createdAt));
  const firstInbound = messages.find((m) => m.direction === "inbound" && m.from !== "");
  const customer = row.contactEmail
    ? { address: row.contactEmail, name: row.contactName }
    : firstInbound
      ? { address: firstInbound.from, name: firstInbound.fromName }
      : null;
  return {
    ticket: { id: row.id, number: row.number, subject: row.subject, companyId: row.companyId, sourceId: row.sourceId },
    customer,
    companyName: row.companyName,
    thread: messages.map((m) => m.messageId),
    rules: await getTicketRules(executor),
  };
}

export async function ticketSummary(executor: Executor, ticketId: string): Promise<{ id: string; number: number; subject: string; companyId: string | null } | null> {
  const [row] = await executor
    .select({ id: tickets.id, number: tickets.number, subject: tickets.subject, companyId: tickets.companyId })
    .from(tickets)
    .where(eq(tickets.id, ticketId));
  return row ?? null;
}

/** What a lead's acknowledgement answers: the subject and Message-ID of the mail it came from. */
export async function leadMailOf(executor: Executor, inboundMessageId: string): Promise<{ subject: string; messageId: string | null } | null> {
  const [row] = await executor
    .select({ subject: inboundMessages.subject, messageId: inboundMessages.messageId })
    .from(inboundMessages)
    .where(eq(inboundMessages.id, inboundMessageId));
  return row ? { subject: row.subject ?? "", messageId: row.messageId } : null;
}
