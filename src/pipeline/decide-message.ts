// What one email becomes, decided from plain values: the email, its source, the routing facts and
// its Message-ID claim. classify → dedupe → thread → route → contact → rules → attachments. No
// database here: persist-batch.ts reads the facts before and writes the decisions after.
import type { MessageIdClaim } from "../db/message-ids.ts";
import type { RoutingFacts, RoutingQuery } from "../db/routing-facts.ts";
import type { NewTicket, SkippedAttachment, TicketSender } from "../db/ticket-store.ts";
import type { TicketRules } from "../settings/ticket-rules.ts";
import { decideAttachment } from "./attachment-policy.ts";
import type { Classification } from "./classify.ts";
import { decideThread } from "./match-thread.ts";
import type { ParsedAttachment, ParsedEmail } from "./parse-email.ts";
import { decideRoute, senderDomainCandidates } from "./route-by-domain.ts";
import { bracketedNumbers, findTicketNumber } from "./subject-tag.ts";
import { pickJobType, pickPriority } from "./ticket-rules.ts";

export type SourceInfo = {
  id: string;
  name: string;
  kind: string;
  address: string;
  role: "system" | "company";
  companyId: string | null;
  /** Whether mail can be sent through it: an acknowledgement goes out through the source the mail came in by. */
  canSend?: boolean;
  /** The mailbox's own acknowledgement switch (its `acknowledgement.enabled`); null or absent: the ticket rules' decides. */
  acknowledges?: boolean | null;
};

export type MessageInput = { inboundMessageId: string; receivedAt: Date; email: ParsedEmail; source: SourceInfo | null };

export type NoteKind = "reply" | "auto_reply" | "bounce";

/** The attachments a ticket keeps, and those the rules skipped with the reason. */
export type AttachmentDecision = { saved: ParsedAttachment[]; skipped: SkippedAttachment[] };

export type Decision =
  | { kind: "ignored"; reason: string }
  | { kind: "duplicate"; duplicateOf: string | null; ticketId: string | null }
  /** A mail it answers is still being processed: it waits, and gives its Message-ID back. */
  | { kind: "held"; reason: string }
  | { kind: "unrouted"; reason: string }
  | { kind: "lead"; lead: { email: string; name: string; domain: string; subject: string } }
  | { kind: "note"; ticketId: string; note: NoteKind; participants: string[]; reopen: boolean; attachments: AttachmentDecision }
  | {
      kind: "ticket";
      /** Without its assignee when the rules assign by round robin: that takes a turn of a shared counter. */
      ticket: NewTicket;
      assign: TicketRules["autoAssign"];
      sender: TicketSender | null;
      attachments: AttachmentDecision;
    };

/** What the routing facts are asked for this email (routing-facts.ts). */
export function routingQuery(input: MessageInput, classification: Classification, now: Date): RoutingQuery {
  const { email, source } = input;
  return {
    recipients: [...email.to, ...email.cc].map((a) => a.address).filter((a) => a !== source?.address),
    senderDomains: senderDomainCandidates(email.from?.address ?? ""),
    ticketNumbers: bracketedNumbers(email.subject),
    referencedIds: referencedIds(email, classification),
    sourceCompanyId: source?.companyId ?? null,
    inboundMessageId: input.inboundMessageId,
    now,
  };
}

/**
 * `classification` is classify()'s, made first: mail mailgate itself sent (own_loop) is ignored
 * before anything is read or claimed, so it never reaches this.
 */
export function decideMessage(
  input: MessageInput,
  known: { classification: Exclude<Classification, { kind: "own_loop" }>; facts: RoutingFacts; claim: MessageIdClaim; now: Date },
): Decision {
  const { email } = input;
  const { classification, facts, claim } = known;
  if (claim.kind === "taken") return { kind: "duplicate", duplicateOf: claim.inboundMessageId, ticketId: claim.ticketId };
  if (facts.awaitingReferenced) return { kind: "held", reason: "a mail it answers is still being processed" };

  const sender = email.from?.address ?? "";
  const threadTicketId = matchThread(email, classification, sender, facts);
  if (classification.kind === "auto_reply" || classification.kind === "bounce") {
    if (!threadTicketId) return { kind: "ignored", reason: classification.reason };
    return note(email, threadTicketId, classification.kind, facts);
  }
  if (threadTicketId) return note(email, threadTicketId, "reply", facts);
  return newTicketOrLead(input, facts, known.now);
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

function note(email: ParsedEmail, ticketId: string, kind: NoteKind, facts: RoutingFacts): Decision {
  // Machines answering do not reopen a ticket, nor join it; people do.
  const person = kind === "reply";
  return {
    kind: "note",
    ticketId,
    note: kind,
    participants: person && email.from ? [email.from.address] : [],
    reopen: person,
    attachments: decideAttachments(email, facts),
  };
}

function newTicketOrLead(input: MessageInput, facts: RoutingFacts, now: Date): Decision {
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
  switch (route.kind) {
    case "unrouted":
      return { kind: "unrouted", reason: route.reason };
    case "lead":
      return { kind: "lead", lead: { email: sender, name: email.from?.name ?? "", domain: route.domain, subject: email.subject } };
    case "company":
      return {
        kind: "ticket",
        ticket: {
          subject: email.subject.trim() || "(no subject)",
          priority: pickPriority(facts.jobTypePriority, rules),
          jobType: pickJobType(rules),
          companyId: route.companyId,
          assigneeId: null,
          sourceId: source?.id ?? null,
          unmapped: route.unmapped,
          participants: sender ? [sender] : [],
          at: now,
        },
        assign: rules.autoAssign,
        sender: sender ? { companyId: route.companyId, email: sender, name: email.from?.name ?? "", create: rules.createContacts } : null,
        attachments: decideAttachments(email, facts),
      };
  }
}

function decideAttachments(email: ParsedEmail, facts: RoutingFacts): AttachmentDecision {
  const saved: ParsedAttachment[] = [];
  const skipped: SkippedAttachment[] = [];
  for (const att of email.attachments) {
    const decision = decideAttachment(att, facts.rules.attachments);
    if (decision.save) saved.push(att);
    else skipped.push({ filename: att.filename, originalFilename: att.originalFilename, contentType: att.contentType, size: att.size, reason: decision.reason });
  }
  return { saved, skipped };
}

const uniq = <T>(list: T[]) => [...new Set(list)];
