// One batch of parsed mails, inside the caller's transaction, in fixed phases:
//
//   1. read   claim each Message-ID (the dedupe) and load the routing facts, sent together
//   2. decide what each mail becomes (decide-message.ts; no database)
//   3. hold   the mails that answer one still being processed: give their Message-ID back
//   4. tickets touch the tickets notes go to, take round-robin turns, insert the new tickets
//             with their contacts, insert leads
//   5. stage  messages, attachments, events, Message-ID links, statuses and the new tickets'
//             acknowledgements (acknowledge-new-tickets.ts), then flush them
//
// Lock order. Every batch takes its row locks in this one order, so two batches may wait for each
// other but never in a circle (a deadlock Postgres would break after a second by failing one):
// Message-IDs by id (phase 1), tickets by id (touched, phase 4), contacts by company then address
// (phase 4), attachment blobs by hash (phase 5). New rows nobody else can see take no part.
import type { Tx } from "../db/client.ts";
import { holdInbound } from "../db/inbound-claims.ts";
import { insertLead, type Lead } from "../db/leads.ts";
import { claimMessageIds, releaseMessageId } from "../db/message-ids.ts";
import { flushPendingWrites, pendingWrites, type PendingWrites, type StagedSettlement } from "../db/pending-writes.ts";
import { loadRoutingFacts, type RoutingFacts } from "../db/routing-facts.ts";
import {
  insertTickets,
  stageTicketMessage,
  takeRoundRobinTurns,
  touchTickets,
  type InsertedTicket,
  type StoredAttachment,
  type TouchedTicket,
} from "../db/ticket-store.ts";
import { stageEvent } from "../delivery/record-event.ts";
import { acknowledgementsFor } from "./acknowledge-new-tickets.ts";
import { classify, type OwnMail } from "./classify.ts";
import { decideMessage, routingQuery, type AttachmentDecision, type Decision, type MessageInput, type NoteKind } from "./decide-message.ts";
import { leadCreatedData, replyReceivedData, ticketCreatedData } from "./event-payloads.ts";
import type { ParsedEmail } from "./parse-email.ts";
import { pickAssignee } from "./pick-assignee.ts";

export type BatchOptions = OwnMail & { publicUrl: string; now: Date; replyHoldMs: (rawBytes: number) => number };

export type BatchMail = MessageInput & { rawBytes: number };

/** A mail the batch settled: webhooks to wake after the commit, latency to observe. */
export type Settled = { receivedAt: Date; events: boolean };

/** What a batch leaves: the mails it settled, when the first one it held is due again, and the acknowledgements it queued. */
export type BatchResult = { settled: Settled[]; retryAt: Date | null; acknowledgements: number };
export const NOTHING_SETTLED: BatchResult = { settled: [], retryAt: null, acknowledgements: 0 };

/** What one mail became once written. */
type Outcome =
  | { kind: "ticket_created"; ticketId: string }
  | { kind: "note_added"; ticketId: string; reopened: boolean }
  | { kind: "lead_created" }
  | Extract<Decision, { kind: "duplicate" | "ignored" | "unrouted" }>;

export type PersistedMessage = { id: string; email: ParsedEmail; receivedAt: Date; attachments: StoredAttachment[] };

export async function persistBatch(tx: Tx, mails: BatchMail[], opts: BatchOptions): Promise<BatchResult> {
  if (mails.length === 0) return NOTHING_SETTLED;
  const decided = await readAndDecide(tx, mails, opts);
  const retryAt = await holdAnswers(tx, decided, opts);
  const written = await writeTickets(tx, decided, opts.now);
  const acknowledgements = await acknowledgementsFor(
    tx,
    [
      ...indexed(decided, "ticket").map(({ i }) => ({ mail: decided[i]!.mail, ticketId: written.inserted.get(i)!.id, facts: decided[i]!.facts! })),
      ...indexed(decided, "lead").map(({ i }) => ({ mail: decided[i]!.mail, ticketId: null, facts: decided[i]!.facts! })),
    ],
    opts,
  );
  return stageAndFlush(tx, decided, written, opts, retryAt, acknowledgements);
}

/** A mail with what it was decided to become, and the facts that decided it (null: not read). */
type Decided = { mail: BatchMail; decision: Decision; facts: RoutingFacts | null };

/** Phases 1 and 2. Mail mailgate itself sent is ignored before anything is read or claimed. */
async function readAndDecide(tx: Tx, mails: BatchMail[], opts: BatchOptions): Promise<Decided[]> {
  const classifications = mails.map((m) => classify(m.email, opts));
  const considered = mails.flatMap((mail, i) => {
    const classification = classifications[i]!;
    return classification.kind === "own_loop" ? [] : [{ mail, i, classification }];
  });
  // Sent back to back on the transaction's connection; the claim runs first.
  const [claims, facts] = await Promise.all([
    claimMessageIds(
      tx,
      considered.map(({ mail }) => ({ messageId: mail.email.messageId, inboundMessageId: mail.inboundMessageId })),
    ),
    loadRoutingFacts(
      tx,
      considered.map(({ mail, classification }) => routingQuery(mail, classification, opts.now)),
    ),
  ]);
  const readFor = new Map(considered.map(({ i }, k) => [i, k]));
  return mails.map((mail, i) => {
    const classification = classifications[i]!;
    if (classification.kind === "own_loop") return { mail, decision: { kind: "ignored", reason: classification.reason }, facts: null };
    const k = readFor.get(i)!;
    return { mail, decision: decideMessage(mail, { classification, facts: facts[k]!, claim: claims[k]!, now: opts.now }), facts: facts[k]! };
  });
}

/** Phase 3: each held mail waits about one batch, and gives its Message-ID back so a copy arriving meanwhile is not a duplicate of nothing. */
async function holdAnswers(tx: Tx, decided: Decided[], opts: BatchOptions): Promise<Date | null> {
  let retryAt: Date | null = null;
  for (const { mail, decision } of decided) {
    if (decision.kind !== "held") continue;
    const until = new Date(opts.now.getTime() + opts.replyHoldMs(mail.rawBytes));
    if (!retryAt || until < retryAt) retryAt = until;
    await releaseMessageId(tx, mail.email.messageId, mail.inboundMessageId);
    await holdInbound(tx, mail.inboundMessageId, until);
  }
  return retryAt;
}

type Written = { touched: Map<number, TouchedTicket>; inserted: Map<number, InsertedTicket & { assigneeId: string | null }>; leads: Map<number, Lead> };

/** Phase 4: one statement for the touches, one for the new tickets and their contacts. */
async function writeTickets(tx: Tx, decided: Decided[], now: Date): Promise<Written> {
  const notes = indexed(decided, "note");
  const tickets = indexed(decided, "ticket");
  const [turns, touched] = await Promise.all([
    takeRoundRobinTurns(tx, tickets.filter(({ d }) => d.assign.mode === "round_robin").length),
    touchTickets(
      tx,
      notes.map(({ d }) => ({ ticketId: d.ticketId, participants: d.participants, reopen: d.reopen, at: now })),
    ),
  ]);
  const assigned = tickets.map(({ i, d }) => {
    const turn = d.assign.mode === "round_robin" ? turns.shift()! : 0;
    return { ...d.ticket, assigneeId: pickAssignee(d.assign, decided[i]!.facts!.activeTechs.map((t) => t.id), turn) };
  });
  const inserted = await insertTickets(
    tx,
    tickets.map(({ d }, k) => ({ ticket: assigned[k]!, sender: d.sender })),
  );
  const leads = new Map<number, Lead>();
  for (const { i, d } of indexed(decided, "lead")) {
    leads.set(i, await insertLead(tx, { ...d.lead, inboundMessageId: decided[i]!.mail.inboundMessageId, at: now }));
  }
  return {
    touched: new Map(notes.map(({ i, d }, k) => [i, touchedOrGone(touched[k] ?? null, d.ticketId)])),
    inserted: new Map(tickets.map(({ i }, k) => [i, { ...inserted[k]!, assigneeId: assigned[k]!.assigneeId }])),
    leads,
  };
}

function touchedOrGone(ticket: TouchedTicket | null, ticketId: string): TouchedTicket {
  if (ticket) return ticket;
  // Deleted since the routing facts named it: the batch fails, and this mail fails on its own.
  throw new Error(`ticket ${ticketId} vanished while a note was added`);
}

/** Phase 5: what nobody in the batch reads back, written with one statement per table. */
async function stageAndFlush(
  tx: Tx,
  decided: Decided[],
  written: Written,
  opts: BatchOptions,
  retryAt: Date | null,
  acknowledgements: PendingWrites["outbound"],
): Promise<BatchResult> {
  const writes = pendingWrites();
  writes.outbound.push(...acknowledgements);
  const settled: Settled[] = [];
  for (const [i, { mail, decision, facts }] of decided.entries()) {
    if (decision.kind === "held") continue;
    const { outcome, events } = stage(writes, mail, i, decision, written, facts, opts);
    writes.settlements.push({ id: mail.inboundMessageId, ...settlementOf(outcome, mail.email) });
    settled.push({ receivedAt: mail.receivedAt, events });
  }
  linkDuplicatesWithinBatch(writes.settlements);
  await flushPendingWrites(tx, writes, opts.now);
  return { settled, retryAt, acknowledgements: acknowledgements.length };
}

function stage(
  writes: PendingWrites,
  mail: BatchMail,
  i: number,
  d: Decision,
  written: Written,
  facts: RoutingFacts | null,
  opts: BatchOptions,
): { outcome: Outcome; events: boolean } {
  switch (d.kind) {
    case "note": {
      const ticket = written.touched.get(i)!;
      const message = stageMessage(writes, mail, ticket.id, d.note, d.attachments);
      stageEvent(writes, { type: "ticket.reply_received", companyId: ticket.companyId, data: replyReceivedData({ ticket, message, publicUrl: opts.publicUrl }), at: opts.now });
      return { outcome: { kind: "note_added", ticketId: ticket.id, reopened: ticket.reopened }, events: true };
    }
    case "ticket": {
      const created = written.inserted.get(i)!;
      const message = stageMessage(writes, mail, created.id, "initial", d.attachments);
      const { companyId } = d.ticket;
      const data = ticketCreatedData({
        ticket: { ...d.ticket, ...created, status: "open" },
        company: { id: companyId, name: facts?.companyNames.get(companyId) ?? "" },
        contact: created.contact,
        assignee: facts?.activeTechs.find((t) => t.id === created.assigneeId) ?? null,
        source: mail.source,
        message,
        publicUrl: opts.publicUrl,
      });
      stageEvent(writes, { type: "ticket.created", companyId, data, at: opts.now });
      return { outcome: { kind: "ticket_created", ticketId: created.id }, events: true };
    }
    case "lead": {
      const lead = written.leads.get(i)!;
      stageEvent(writes, { type: "lead.created", companyId: null, data: leadCreatedData(lead, mail), at: opts.now });
      return { outcome: { kind: "lead_created" }, events: true };
    }
    case "held":
      throw new Error("a held mail is not staged");
    default:
      return { outcome: d, events: false };
  }
}

/** The message, its attachments and its Message-ID link. */
function stageMessage(writes: PendingWrites, mail: BatchMail, ticketId: string, kind: "initial" | NoteKind, attachments: AttachmentDecision): PersistedMessage {
  const { email } = mail;
  const stored = stageTicketMessage(writes, {
    ticketId,
    inboundMessageId: mail.inboundMessageId,
    kind,
    from: email.from ?? { address: "", name: "" },
    to: email.to,
    cc: email.cc,
    subject: email.subject,
    text: email.text,
    html: email.html,
    messageId: email.messageId,
    messageIdAsWritten: email.messageIdAsWritten,
    receivedAt: mail.receivedAt,
    saved: attachments.saved,
    skipped: attachments.skipped,
  });
  writes.links.push({ messageId: email.messageId, ticketId });
  return { id: stored.id, email, receivedAt: mail.receivedAt, attachments: stored.attachments };
}

/**
 * A copy of a mail processed in the same batch found its Message-ID claimed before the first
 * one's ticket was linked (that link is written at the batch's end): take the ticket from there.
 */
function linkDuplicatesWithinBatch(settlements: StagedSettlement[]): void {
  const ticketOf = new Map(settlements.map((s) => [s.id, s.ticketId]));
  for (const s of settlements) {
    if (s.status === "duplicate" && !s.ticketId && s.duplicateOf) s.ticketId = ticketOf.get(s.duplicateOf) ?? null;
  }
}

function settlementOf(outcome: Outcome, email: ParsedEmail): Omit<StagedSettlement, "id"> {
  const parsed = { messageId: email.messageId, fromAddress: email.from?.address ?? null, subject: email.subject, reason: null, error: null, ticketId: null, duplicateOf: null };
  switch (outcome.kind) {
    case "ticket_created":
      return { ...parsed, status: "ticket_created", ticketId: outcome.ticketId };
    case "note_added":
      return { ...parsed, status: "note_added", ticketId: outcome.ticketId, reason: outcome.reopened ? "reopened the ticket" : null };
    case "lead_created":
      return { ...parsed, status: "lead_created" };
    case "duplicate":
      return { ...parsed, status: "duplicate", duplicateOf: outcome.duplicateOf, ticketId: outcome.ticketId, reason: "the same Message-ID was already received" };
    case "ignored":
      return { ...parsed, status: "ignored", reason: outcome.reason };
    case "unrouted":
      return { ...parsed, status: "unrouted", reason: outcome.reason };
  }
}

/** The decisions of one kind, with their place in the batch. */
function indexed<K extends Decision["kind"]>(decided: Decided[], kind: K): { i: number; d: Extract<Decision, { kind: K }> }[] {
  return decided.flatMap(({ decision: d }, i) => (d.kind === kind ? [{ i, d: d as Extract<Decision, { kind: K }> }] : []));
}
