// What an outgoing message on a ticket is built from, read in one place: the ticket, who it is
// for, its company, the Message-IDs of its thread in order, and the rules (subject tag,
// acknowledgement templates). The outbox reads a whole claim's tickets at once.
import { asc, eq, sql } from "drizzle-orm";
import { pgArray, type Executor } from "./client.ts";
import { companies, contacts, inboundMessages, ticketMessages, tickets } from "./schema.ts";
import { getTicketRules } from "./settings.ts";
import type { TicketRules } from "../settings/ticket-rules.ts";

export type ReplyContext = {
  ticket: { id: string; number: number; subject: string; companyId: string | null; sourceId: string | null };
  /** The ticket's contact, else the sender of its first mail: who a reply goes to. */
  customer: { address: string; name: string | null } | null;
  companyName: string | null;
  /** The Message-IDs of the ticket's messages, oldest first, each as its sender wrote it. */
  thread: string[];
  rules: TicketRules;
};

export async function loadReplyContext(executor: Executor, ticketId: string): Promise<ReplyContext | null> {
  return (await loadReplyContexts(executor, [ticketId], await getTicketRules(executor))).get(ticketId) ?? null;
}

/** The contexts of the tickets that still exist, by ticket id, in two statements whatever their number. */
export async function loadReplyContexts(executor: Executor, ticketIds: string[], rules: TicketRules): Promise<Map<string, ReplyContext>> {
  const contexts = new Map<string, ReplyContext>();
  if (ticketIds.length === 0) return contexts;
  const rows = await executor
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
    .where(sql`${tickets.id} = any(${pgArray(ticketIds)}::uuid[])`);
  const messages = await executor
    .select({ ticketId: ticketMessages.ticketId, messageId: sql<string>`coalesce(${ticketMessages.messageIdAsWritten}, ${ticketMessages.messageId})`, from: ticketMessages.fromAddress, fromName: ticketMessages.fromName, direction: ticketMessages.direction })
    .from(ticketMessages)
    .where(sql`${ticketMessages.ticketId} = any(${pgArray(ticketIds)}::uuid[])`)
    .orderBy(asc(ticketMessages.receivedAt), asc(ticketMessages.createdAt));
  for (const row of rows) {
    const own = messages.filter((m) => m.ticketId === row.id);
    const firstInbound = own.find((m) => m.direction === "inbound" && m.from !== "");
    const customer = row.contactEmail
      ? { address: row.contactEmail, name: row.contactName }
      : firstInbound
        ? { address: firstInbound.from, name: firstInbound.fromName }
        : null;
    contexts.set(row.id, {
      ticket: { id: row.id, number: row.number, subject: row.subject, companyId: row.companyId, sourceId: row.sourceId },
      customer,
      companyName: row.companyName,
      thread: own.map((m) => m.messageId),
      rules,
    });
  }
  return contexts;
}

export type TicketSummary = { id: string; number: number; subject: string; companyId: string | null };

export async function ticketSummaries(executor: Executor, ticketIds: string[]): Promise<Map<string, TicketSummary>> {
  if (ticketIds.length === 0) return new Map();
  const rows = await executor
    .select({ id: tickets.id, number: tickets.number, subject: tickets.subject, companyId: tickets.companyId })
    .from(tickets)
    .where(sql`${tickets.id} = any(${pgArray(ticketIds)}::uuid[])`);
  return new Map(rows.map((r) => [r.id, r]));
}

/** What a lead's acknowledgement answers: the subject and Message-ID of the mail it came from, by inbound message id. */
export async function leadMailsOf(executor: Executor, inboundMessageIds: string[]): Promise<Map<string, { subject: string; messageId: string | null }>> {
  if (inboundMessageIds.length === 0) return new Map();
  const rows = await executor
    .select({ id: inboundMessages.id, subject: inboundMessages.subject, messageId: inboundMessages.messageId })
    .from(inboundMessages)
    .where(sql`${inboundMessages.id} = any(${pgArray(inboundMessageIds)}::uuid[])`);
  return new Map(rows.map((r) => [r.id, { subject: r.subject ?? "", messageId: r.messageId }]));
}
