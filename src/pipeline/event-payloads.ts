// The `data` of the events the pipeline emits, built from values the pipeline already holds (no
// extra reads). Shapes: src/delivery/event-types.ts, published as webhooks/schemas.
import type { Lead } from "../db/leads.ts";
import type { TouchedTicket } from "../db/ticket-store.ts";
import type { MessageInput, SourceInfo } from "./decide-message.ts";
import type { PersistedMessage } from "./persist-batch.ts";

// A webhook carries the body up to this size: a 40 MB newsletter must not become a 40 MB event
// on every endpoint. The API has the whole message.
export const PAYLOAD_BODY_LIMIT = 256 * 1024;

const capped = (value: string | null) => (value !== null && value.length > PAYLOAD_BODY_LIMIT ? value.slice(0, PAYLOAD_BODY_LIMIT) : value);

function messagePayload(m: Pick<PersistedMessage, "id" | "email" | "receivedAt">) {
  const { email } = m;
  const truncated = (email.text?.length ?? 0) > PAYLOAD_BODY_LIMIT || (email.html?.length ?? 0) > PAYLOAD_BODY_LIMIT;
  return {
    id: m.id,
    messageId: email.messageId,
    from: email.from ?? { address: "", name: "" },
    to: email.to,
    cc: email.cc,
    subject: email.subject,
    text: capped(email.text),
    html: capped(email.html),
    truncated,
    receivedAt: m.receivedAt.toISOString(),
  };
}

function attachmentsPayload(m: PersistedMessage, publicUrl: string) {
  return m.attachments.map((a) => ({
    id: a.id,
    filename: a.filename,
    originalFilename: a.originalFilename,
    contentType: a.contentType,
    size: a.size,
    sha256: a.sha256,
    url: `${publicUrl}/api/attachments/${a.id}/content`,
  }));
}

function sourcePayload(source: SourceInfo | null) {
  return source ? { id: source.id, name: source.name, kind: source.kind, address: source.address } : null;
}

export function ticketCreatedData(input: {
  ticket: { id: string; number: number; subject: string; status: string; priority: string; jobType: string; unmapped: boolean; at: Date };
  company: { id: string; name: string };
  contact: { id: string; email: string; name: string | null } | null;
  assignee: { id: string; name: string; email: string } | null;
  source: SourceInfo | null;
  message: PersistedMessage;
  publicUrl: string;
}) {
  const { ticket } = input;
  return {
    ticket: {
      id: ticket.id,
      number: ticket.number,
      subject: ticket.subject,
      status: ticket.status,
      priority: ticket.priority,
      jobType: ticket.jobType,
      unmapped: ticket.unmapped,
      createdAt: ticket.at.toISOString(),
      assignee: input.assignee,
    },
    company: input.company,
    contact: input.contact,
    source: sourcePayload(input.source),
    message: messagePayload(input.message),
    attachments: attachmentsPayload(input.message, input.publicUrl),
  };
}

export function replyReceivedData(input: { ticket: TouchedTicket; message: PersistedMessage; publicUrl: string }) {
  const { ticket } = input;
  return {
    ticket: { id: ticket.id, number: ticket.number, subject: ticket.subject, status: ticket.status, companyId: ticket.companyId },
    message: messagePayload(input.message),
    attachments: attachmentsPayload(input.message, input.publicUrl),
    reopened: ticket.reopened,
  };
}

export function leadCreatedData(lead: Lead, input: MessageInput) {
  return {
    lead: { ...lead, createdAt: lead.createdAt.toISOString() },
    source: sourcePayload(input.source),
    message: messagePayload({ id: input.inboundMessageId, email: input.email, receivedAt: input.receivedAt }),
  };
}
