// The story of one email, inside ONE transaction owned by the caller: classify → dedupe → thread
// → route → contact → rules → attachments → persist (ticket or note, Message-ID, event).
// Reads happen in one round trip (routing facts); writes nobody reads back in the batch (message,
// attachments, event, Message-ID link) are staged and written for the whole batch at its end.
import type { Tx } from "../db/client.ts";
import { releaseMessageId, decideMessageIdClaim } from "../db/message-ids.ts";
import type { PendingWrites } from "../db/pending-writes.ts";
import { type RoutingFacts, type RoutingFactsLoader } from "../db/routing-facts.ts";
import { nextRoundRobin, stageTicketMessage, type StoredAttachment, type TicketSlot } from "../db/ticket-store.ts";
import { insertLead } from "../db/leads.ts";
import { stageEvent } from "../delivery/record-event.ts";
import { decideAttachment } from "./attachment-policy.ts";
import { classify, type Classification } from "./classify.ts";
import { decideThread } from "./match-thread.ts";
import type { ParsedEmail } from "./parse-email.ts";
import { pickAssignee } from "./pick-assignee.ts";
import { decideRoute, senderDomainCandidates } from "./route-by-domain.ts";
import { bracketedNumbers, findTicketNumber } from "./subject-tag.ts";
import { pickJobType, pickPriority } from "./ticket-rules.ts";
import { leadCreatedData, replyReceivedData, ticketCreatedData } from "./event-payloads.ts";

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
  | { kind: "ignored"; reason: string }
  | { kind: "unrouted"; reason: string }
  | { kind: "held"; reason: string };

/**
 * `writes` collects what the batch writes at its end (pending-writes.ts), in the same transaction;
 * `facts` reads the routing facts, for a batch all messages' in one statement (batchedRoutingFacts);
 * `tickets` is the message's place in the batch's ticket writes (batchedTicketWrites).
 */
export type ProcessDeps = { ownMessageIdDomain: string; publicUrl: string; now: Date; writes: PendingWrites; facts: RoutingFactsLoader; tickets: TicketSlot };

type NoteKind = "reply" | "auto_reply" | "bounce";

export async function processMessage(tx: Tx, input: MessageInput, deps: ProcessDeps): Promise<Outcome> {
  const { email, source } = input;
  const classification = classify(email, { ownMessageIdDomain: deps.ownMessageIdDomain });
  if (classification.kind === "own_loop") return { kind: "ignored", reason: classification.reason };

  const sender = email.from?.address ?? "";
  const facts = await deps.facts({
    recipients: [...email.to, ...email.cc].map((a) => a.address).filter((a) => a !== source?.address),
    senderDomains: senderDomainCandidates(sender),
    ticketNumbers: bracketedNumbers(email.subject),
    referencedIds: referencedIds(email, classification),
    sourceCompanyId: source?.companyId ?? null,
    inboundMessageId: input.inboundMessageId,
    now: deps.now,
    messageId: email.messageId,
  });
  const claim = await decideMessageIdClaim(tx, email.messageId, input.inboundMessageId, facts.claim);
  if (claim.kind === "taken") return { kind: "duplicate", duplicateOf: claim.inboundMessageId, ticketId: claim.ticketId };
  if (facts.awaitingReferenced) {
    // The mail this one answers is being processed right now: wait for its ticket, and give the
    // Message-ID back so a copy arriving meanwhile is not a duplicate of nothing.
    await releaseMessageId(tx, email.messageId, input.inboundMessageId);
    return { kind: "held", reason: "a mail it answers is still being processed" };
  }

  const threadTicketId = matchThread(email, classification, sender, facts);
  if (classification.kind === "auto_reply" || classification.kind === "bounce") {
    if (!threadTicketId) return { kind: "ignored", reason: classification.reason };
    return addNote(input, threadTicketId, classification.kind, facts, deps);
  }
  if (threadTicketId) return addNote(input, threadTicketId, "reply", facts, deps);
  return createTicketOrLead(tx, input, facts, deps);
}

// A bounce names the original mail inside its report; a reply names it in its headers, the
// direct parent first, then the thread from the newest reference back.
function referencedIds(email: ParsedEmail, classification: Classification): string[] {
  return classification.kind === "bounce"
    ? [...email.embeddedMessageIds, ...email.inReplyTo, ...email.references]
    : [...email.inReplyTo, ...[...email.references].reverse()];
}

function matchThread(email: ParsedEmail, classification: Classification, sender: string, facts: RoutingFacts): string | null {
  const number = findTicketNumber(email.subject, facts.rules.ticketSubjectTag);
  const subjectCandidate = number === null ? null : (facts.subjectTickets.find((t) => t.number === number) ?? null);
  const headerTicketId = referencedIds(email, classification).map((id) => facts.headerTickets.get(id)).find(Boolean) ?? null;
  const decision = decideThread({ sender, subjectCandidate, headerTicketId });
  return decision.kind === "reply" ? decision.ticketId : null;
}

async function addNote(input: MessageInput, ticketId: string, kind: NoteKind, facts: RoutingFacts, deps: ProcessDeps): Promise<Outcome> {
  const { email } = input;
  // Machines answering do not reopen a ticket; people do.
  const touch = { ticketId, participants: kind === "reply" && email.from ? [email.from.address] : [], reopen: kind === "reply", at: deps.now };
  const ticket = await deps.tickets.touch(touch);
  if (!ticket) throw new Error(`ticket ${ticketId} vanished while a note was added`);
  const [, eventId] = persistMessage(input, ticketId, kind, facts, deps.writes, (message) =>
    stageEvent(deps.writes, {
      type: "ticket.reply_received",
      companyId: ticket.companyId,
      data: replyReceivedData({ ticket, message, publicUrl: deps.publicUrl }),
      at: deps.now,
    }),
  );
  return { kind: "note_added", ticketId, reopened: ticket.reopened, eventIds: [eventId] };
}

async function createTicketOrLead(tx: Tx, input: MessageInput, facts: RoutingFacts, deps: ProcessDeps): Promise<Outcome> {
  const { email, source } = input;
  const sender = email.from?.address ?? "";
  const { rules } = facts;
  const recipients = [...email.to, ...email.cc].map((a) => a.address);
  const route = decideRoute({
    source: { role: source?.role ?? "system", companyId: source?.companyId ?? null },
    recipientCompanyIds: source?.role === "company" ? [] : uniq(recipients.map((a) => facts.mailboxCompanies.get(a)).filter((c): c is string => !!c)),
    domainMatches: facts.domainMatches,
    senderAddress: sender,
    unmapped:
      rules.unmappedDomains.mode === "lead"
        ? rules.unmappedDomains
        : { mode: "default_company", defaultCompanyId: rules.unmappedDomains.defaultCompanyId ?? facts.flaggedDefaultCompanyId },
  });

  if (route.kind !== "company") deps.tickets.pass();
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
      const eventId = stageEvent(deps.writes, { type: "lead.created", companyId: null, data: leadCreatedData(lead, input), at: deps.now });
      return { kind: "lead_created", leadId: lead.id, eventIds: [eventId] };
    }
    case "company": {
      const jobType = pickJobType(rules);
      const counter = rules.autoAssign.mode === "round_robin" ? await nextRoundRobin(tx) : 0;
      const assigneeId =
        rules.autoAssign.mode === "none" ? null : pickAssignee(rules.autoAssign, facts.activeTechs.map((t) => t.id), counter);
      const ticket = {
        subject: email.subject.trim() || "(no subject)",
        priority: pickPriority(facts.jobTypePriority, rules),
        jobType,
        companyId: route.companyId,
        assigneeId,
        sourceId: source?.id ?? null,
        unmapped: route.unmapped,
        participants: sender ? [sender] : [],
        at: deps.now,
      };
      const contactOf = sender ? { companyId: route.companyId, email: sender, name: email.from?.name ?? "", create: rules.createContacts } : null;
      const created = await deps.tickets.insert(ticket, contactOf);
      const { contact } = created;
      const [, eventId] = persistMessage(input, created.id, "initial", facts, deps.writes, (message) =>
        stageEvent(deps.writes, {
          type: "ticket.created",
          companyId: route.companyId,
          data: ticketCreatedData({
            ticket: { ...ticket, ...created, status: "open" },
            company: { id: route.companyId, name: facts.companyNames.get(route.companyId) ?? "" },
            contact,
            assignee: facts.activeTechs.find((t) => t.id === assigneeId) ?? null,
            source,
            message,
            publicUrl: deps.publicUrl,
          }),
          at: deps.now,
        }),
      );
      return { kind: "ticket_created", ticketId: created.id, eventIds: [eventId] };
    }
  }
}

export type PersistedMessage = { id: string; email: ParsedEmail; receivedAt: Date; attachments: StoredAttachment[] };

/** Stages the message, its attachments, its Message-ID link and its event for the batch's write. */
function persistMessage(
  input: MessageInput,
  ticketId: string,
  kind: "initial" | NoteKind,
  facts: RoutingFacts,
  writes: PendingWrites,
  event: (message: PersistedMessage) => string,
): [PersistedMessage, string] {
  const { email } = input;
  const saved = [];
  const skipped = [];
  for (const att of email.attachments) {
    const decision = decideAttachment(att, facts.rules.attachments);
    if (decision.save) saved.push(att);
    else skipped.push({ filename: att.filename, originalFilename: att.originalFilename, contentType: att.contentType, size: att.size, reason: decision.reason });
  }
  const stored = stageTicketMessage(writes, {
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
  writes.links.push({ messageId: email.messageId, ticketId });
  const message = { id: stored.id, email, receivedAt: input.receivedAt, attachments: stored.attachments };
  return [message, event(message)];
}

const uniq = <T>(list: T[]) => [...new Set(list)];
