// Builds the `data` of the events the pipeline emits (shapes: src/delivery/event-types.ts and
// webhooks/schemas). Reads what the payload names (company, contact, assignee) in one query.
import { eq } from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";
import type { Executor } from "../db/client.js";
import type { Lead } from "../db/leads.js";
import { companies, contacts, techs, tickets } from "../db/schema.js";
import type { StoredAttachment } from "../db/ticket-store.js";
import type { ParsedEmail } from "./parse-email.js";
import type { MessageInput, SourceInfo } from "./process-message.js";

export type PayloadRefs = {
  ticketId: string;
  messageId: string; // ticket_messages.id
  email: ParsedEmail;
  source: SourceInfo | null;
  attachments: StoredAttachment[];
  receivedAt: Date;
};

const assignee = alias(techs, "assignee");

async function loadTicket(executor: Executor, ticketId: string) {
  const [row] = await executor
    .select({
      ticket: tickets,
      company: { id: companies.id, name: companies.name },
      contact: { id: contacts.id, email: contacts.email, name: contacts.name },
      assignee: { id: assignee.id, name: assignee.name, email: assignee.email },
    })
    .from(tickets)
    .leftJoin(companies, eq(companies.id, tickets.companyId))
    .leftJoin(contacts, eq(contacts.id, tickets.contactId))
    .leftJoin(assignee, eq(assignee.id, tickets.assigneeId))
    .where(eq(tickets.id, ticketId));
  if (!row) throw new Error(`ticket ${ticketId} vanished while building its event`);
  return row;
}

function messagePayload(refs: { messageId: string; email: ParsedEmail; receivedAt: Date }) {
  const { email } = refs;
  return {
    id: refs.messageId,
    messageId: email.messageId,
    from: email.from ?? { address: "", name: "" },
    to: email.to,
    cc: email.cc,
    subject: email.subject,
    text: email.text,
    html: email.html,
    receivedAt: refs.receivedAt.toISOString(),
  };
}

function attachmentPayload(list: StoredAttachment[], publicUrl: string) {
  return list.map((a) => ({
    id: a.id,
    filename: a.filename,
    contentType: a.contentType,
    size: a.size,
    sha256: a.sha256,
    url: `${publicUrl}/api/attachments/${a.id}/content`,
  }));
}

function sourcePayload(source: SourceInfo | null) {
  return source ? { id: source.id, name: source.name, kind: source.kind, address: source.address } : null;
}

export async function ticketCreatedEvent(executor: Executor, refs: PayloadRefs, publicUrl: string) {
  const { ticket, company, contact, assignee: tech } = await loadTicket(executor, refs.ticketId);
  return {
    companyId: ticket.companyId,
    data: {
      ticket: {
        id: ticket.id,
        number: ticket.number,
        subject: ticket.subject,
        status: ticket.status,
        priority: ticket.priority,
        jobType: ticket.jobType,
        unmapped: ticket.unmapped,
        createdAt: ticket.createdAt.toISOString(),
        assignee: tech?.id ? tech : null,
      },
      company: company?.id ? company : null,
      contact: contact?.id ? contact : null,
      source: sourcePayload(refs.source),
      message: messagePayload(refs),
      attachments: attachmentPayload(refs.attachments, publicUrl),
    },
  };
}

export async function replyReceivedEvent(executor: Executor, refs: PayloadRefs, reopened: boolean, publicUrl: string) {
  const { ticket } = await loadTicket(executor, refs.ticketId);
  return {
    companyId: ticket.companyId,
    data: {
      ticket: { id: ticket.id, number: ticket.number, subject: ticket.subject, status: ticket.status, companyId: ticket.companyId },
      message: messagePayload(refs),
      attachments: attachmentPayload(refs.attachments, publicUrl),
      reopened,
    },
  };
}

export function leadCreatedEvent(lead: Lead, input: MessageInput, messageId: string | null) {
  return {
    companyId: null,
    data: {
      lead: { ...lead, createdAt: lead.createdAt.toISOString() },
      source: sourcePayload(input.source),
      message: messagePayload({ messageId: messageId ?? input.inboundMessageId, email: input.email, receivedAt: input.receivedAt }),
    },
  };
}
