// The story of one email, inside ONE transaction owned by the caller: parse → classify → dedupe
// → thread → route → contact → rules → attachments → persist (ticket or note, Message-ID, events).
import type { Tx } from "../db/client.js";
import { claimMessageId, findTicketByMessageIds, linkMessageIdToTicket } from "../db/message-ids.js";
import {
  activeTechIds,
  companiesOfMailboxes,
  defaultCompanyId,
  domainMatches,
  findOrCreateContact,
  ticketByNumberForThreading,
} from "../db/routing-lookups.js";
import { getTicketRules } from "../db/settings.js";
import { insertTicket, insertTicketMessage, jobTypeDefaultPriority, nextRoundRobin, touchTicket } from "../db/ticket-store.js";
import { insertLead } from "../db/leads.js";
import { recordEvent } from "../delivery/record-event.js";
import type { TicketRules } from "../settings/ticket-rules.js";
import { decideAttachment } from "./attachment-policy.js";
import { classify, type Classification } from "./classify.js";
import { decideThread } from "./match-thread.js";
import type { ParsedEmail } from "./parse-email.js";
import { pickAssignee } from "./pick-assignee.js";
import { decideRoute, senderDomainCandidates } from "./route-by-domain.js";
import { findTicketNumber } from "./subject-tag.js";
import { pickJobType, pickPriority } from "./ticket-rules.js";
import { leadCreatedEvent, replyReceivedEvent, ticketCreatedEvent, type PayloadRefs } from "./event-payloads.js";

export type SourceInfo = {
  id: string;
  name: string;
  kind: string;
  address: string;
  role: "system" | "company";
  companyId: string | null;
};

export type MessageInput = { inboundMessageId: string; receivedAt: Date; email: ParsedEmail; source: SourceInfo | null };

export type Outcome =
  | { kind: "ticket_created"; ticketId: string; eventIds: string[] }
  | { kind: "note_added"; ticketId: string; reopened: boolean; eventIds: string[] }
  | { kind: "lead_created"; leadId: string; eventIds: string[] }
  | { kind: "duplicate"; duplicateOf: string | null; ticketId: string | null }
  | { kind: "ignored"; reason: string; ticketId?: undefined }
  | { kind: "unrouted"; reason: string };

export type ProcessDeps = { ownMessageIdDomain: string; publicUrl: string; now: Date };

export async function processMessage(tx: Tx, input: MessageInput, deps: ProcessDeps): Promise<Outcome> {
  const { email } = input;
  const classification = classify(email, { ownMessageIdDomain: deps.ownMessageIdDomain });
  if (classification.kind === "own_loop") return { kind: "ignored", reason: classification.reason };

  const claim = await claimMessageId(tx, email.messageId, input.inboundMessageId);
  if (claim.kind === "taken") return { kind: "duplicate", duplicateOf: claim.inboundMessageId, ticketId: claim.ticketId };

  const rules = await getTicketRules(tx);
  const sender = email.from?.address ?? "";
  const threadTicketId = await matchThread(tx, email, classification, sender, rules);

  if (classification.kind === "auto_reply" || classification.kind === "bounce") {
    if (!threadTicketId) return { kind: "ignored", reason: classification.reason };
    return addNote(tx, input, threadTicketId, classification.kind, rules, deps);
  }
  if (threadTicketId) return addNote(tx, input, threadTicketId, "reply", rules, deps);
  return createTicketOrLead(tx, input, rules, deps);
}

async function matchThread(
  tx: Tx,
  email: ParsedEmail,
  classification: Classification,
  sender: string,
  rules: TicketRules,
): Promise<string | null> {
  const number = findTicketNumber(email.subject, rules.ticketSubjectTag);
  const subjectCandidate = number === null ? null : await ticketByNumberForThreading(tx, number);
  // A bounce names the original mail inside its report; a reply names it in its headers.
  const headerIds =
    classification.kind === "bounce"
      ? [...email.embeddedMessageIds, ...email.inReplyTo, ...email.references]
      : [...email.inReplyTo, ...[...email.references].reverse()];
  const headerTicketId = await findTicketByMessageIds(tx, headerIds);
  const decision = decideThread({ sender, subjectCandidate, headerTicketId });
  return decision.kind === "reply" ? decision.ticketId : null;
}

async function addNote(
  tx: Tx,
  input: MessageInput,
  ticketId: string,
  kind: "reply" | "auto_reply" | "bounce",
  rules: TicketRules,
  deps: ProcessDeps,
): Promise<Outcome> {
  const { email } = input;
  const participants = kind === "reply" && email.from ? [email.from.address] : [];
  // Machines answering do not reopen a ticket; people do.
  const { reopened } = await touchTicket(tx, ticketId, { participants, reopen: kind === "reply", at: deps.now });
  const refs = await storeMessage(tx, input, ticketId, kind, rules);
  await linkMessageIdToTicket(tx, email.messageId, ticketId);
  const event = await replyReceivedEvent(tx, refs, reopened, deps.publicUrl);
  const eventId = await recordEvent(tx, { type: "ticket.reply_received", ...event, at: deps.now });
  return { kind: "note_added", ticketId, reopened, eventIds: [eventId] };
}

async function createTicketOrLead(tx: Tx, input: MessageInput, rules: TicketRules, deps: ProcessDeps): Promise<Outcome> {
  const { email, source } = input;
  const sender = email.from?.address ?? "";
  const recipients = [...email.to, ...email.cc].map((a) => a.address).filter((a) => a !== source?.address);
  const unmapped =
    rules.unmappedDomains.mode === "lead"
      ? rules.unmappedDomains
      : { mode: "default_company" as const, defaultCompanyId: await defaultCompanyId(tx, rules.unmappedDomains.defaultCompanyId) };
  const route = decideRoute({
    source: { role: source?.role ?? "system", companyId: source?.companyId ?? null },
    recipientCompanyIds: source?.role === "company" ? [] : await companiesOfMailboxes(tx, recipients),
    domainMatches: await domainMatches(tx, senderDomainCandidates(sender)),
    senderAddress: sender,
    unmapped,
  });

  switch (route.kind) {
    case "unrouted":
      return { kind: "unrouted", reason: route.reason };
    case "lead": {
      const lead = await insertLead(tx, {
        email: sender,
        name: email.from?.name ?? "",
        domain: route.domain,
        subject: email.subject,
        inboundMessageId: input.inboundMessageId,
        at: deps.now,
      });
      const eventId = await recordEvent(tx, { type: "lead.created", ...leadCreatedEvent(lead, input, null), at: deps.now });
      return { kind: "lead_created", leadId: lead.id, eventIds: [eventId] };
    }
    case "company": {
      const contact = sender
        ? await findOrCreateContact(tx, { companyId: route.companyId, email: sender, name: email.from?.name ?? "", create: rules.createContacts })
        : null;
      const jobType = pickJobType(rules);
      const priority = pickPriority(await jobTypeDefaultPriority(tx, jobType), rules);
      const counter = rules.autoAssign.mode === "round_robin" ? await nextRoundRobin(tx) : 0;
      const assigneeId = rules.autoAssign.mode === "none" ? null : pickAssignee(rules.autoAssign, await activeTechIds(tx), counter);
      const ticket = await insertTicket(tx, {
        subject: email.subject.trim() || "(no subject)",
        priority,
        jobType,
        companyId: route.companyId,
        contactId: contact?.id ?? null,
        assigneeId,
        sourceId: source?.id ?? null,
        unmapped: route.unmapped,
        participants: sender ? [sender] : [],
        at: deps.now,
      });
      const refs = await storeMessage(tx, input, ticket.id, "initial", rules);
      await linkMessageIdToTicket(tx, email.messageId, ticket.id);
      const event = await ticketCreatedEvent(tx, refs, deps.publicUrl);
      const eventId = await recordEvent(tx, { type: "ticket.created", ...event, at: deps.now });
      return { kind: "ticket_created", ticketId: ticket.id, eventIds: [eventId] };
    }
  }
}

async function storeMessage(
  tx: Tx,
  input: MessageInput,
  ticketId: string,
  kind: "initial" | "reply" | "auto_reply" | "bounce",
  rules: TicketRules,
): Promise<PayloadRefs> {
  const { email } = input;
  const saved = [];
  const skipped = [];
  for (const att of email.attachments) {
    const decision = decideAttachment(att, rules.attachments);
    if (decision.save) saved.push(att);
    else skipped.push({ filename: att.filename, contentType: att.contentType, size: att.size, reason: decision.reason });
  }
  const stored = await insertTicketMessage(tx, {
    ticketId,
    inboundMessageId: input.inboundMessageId,
    kind,
    from: email.from ?? { address: "", name: "" },
    to: email.to,
    cc: email.cc,
    subject: email.subject,
    text: email.text,
    html: email.html,
    messageId: email.messageId,
    receivedAt: input.receivedAt,
    saved,
    skipped,
  });
  return { ticketId, messageId: stored.id, email, source: input.source, attachments: stored.attachments, receivedAt: input.receivedAt };
}
