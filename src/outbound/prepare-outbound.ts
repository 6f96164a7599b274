// The prepare phase of the outbox, for a whole claim at once: each claimed message gets its
// source and the bytes to send. A reply's bytes were stored when it was queued; an
// acknowledgement queued by the pipeline is built now, on its first claim, from its ticket (or
// its lead's mail), and stored with its ticket message and thread link before anything is sent,
// so every later attempt sends the same bytes. Reads and writes a claim's messages together: a
// few statements per claim, not per message.
import type { Context } from "../context.ts";
import { storeBuiltMessages, type BuiltMessage, type ClaimedOutbound } from "../db/outbound-messages.ts";
import { pendingWrites } from "../db/pending-writes.ts";
import { leadMailsOf, loadReplyContexts } from "../db/reply-context.ts";
import { getTicketRules } from "../db/settings.ts";
import { findSources, type SourceRecord } from "../db/sources.ts";
import { normaliseMessageId } from "../pipeline/message-id.ts";
import { buildOutboundMime, type OutboundMessage } from "./build-message.ts";
import { acknowledgementFor } from "./acknowledgement-settings.ts";
import { composeAcknowledgement, composeLeadAcknowledgement } from "./compose-message.ts";
import { ownLoopToken } from "./loop-token.ts";
import { stageOutboundTicketMessage, writeStaged } from "./outbound-ticket-message.ts";

/** A claimed message with what it needs to be sent, or why it cannot be (a permanent failure). */
export type Prepared = { claimed: ClaimedOutbound; source: SourceRecord; raw: Buffer } | Unsendable;
type Unsendable = { claimed: ClaimedOutbound; source: SourceRecord | null; problem: string };

type Composed = { claimed: ClaimedOutbound; source: SourceRecord; message: OutboundMessage };

export async function prepareClaimed(ctx: Context, claimed: ClaimedOutbound[]): Promise<Prepared[]> {
  if (claimed.length === 0) return [];
  const sources = await findSources(ctx.db, unique(claimed.map((c) => c.sourceId)));
  const prepared: Prepared[] = [];
  const toBuild: { claimed: ClaimedOutbound; source: SourceRecord }[] = [];
  for (const c of claimed) {
    const source = c.sourceId ? sources.get(c.sourceId) : undefined;
    if (!source) prepared.push({ claimed: c, source: null, problem: "its source was deleted" });
    else if (c.raw) prepared.push({ claimed: c, source, raw: c.raw });
    else toBuild.push({ claimed: c, source });
  }
  if (toBuild.length === 0) return prepared;

  const composed = await composeAcknowledgements(ctx, toBuild);
  const built: (BuiltMessage & Composed)[] = [];
  for (const item of composed) {
    if ("problem" in item) prepared.push(item);
    else {
      const raw = await buildOutboundMime(item.message, ownLoopToken(ctx));
      built.push({ ...item, id: item.claimed.id, messageId: normaliseMessageId(item.message.messageId)!, raw, subject: item.message.subject });
    }
  }
  await storeBuilt(ctx, built);
  return [...prepared, ...built.map(({ claimed, source, raw }) => ({ claimed, source, raw }))];
}

/** Each acknowledgement composed from its ticket, or its lead's mail (a lead has no ticket). */
async function composeAcknowledgements(ctx: Context, items: { claimed: ClaimedOutbound; source: SourceRecord }[]): Promise<(Composed | Unsendable)[]> {
  const rules = await getTicketRules(ctx.db);
  const contexts = await loadReplyContexts(ctx.db, unique(items.map((i) => i.claimed.ticketId)), rules);
  const leadMails = await leadMailsOf(ctx.db, unique(items.filter((i) => !i.claimed.ticketId).map((i) => i.claimed.inReplyToInboundId)));
  const now = ctx.clock.now();
  return items.map(({ claimed, source }) => {
    const from = { address: source.address, name: source.name };
    const to = { address: claimed.recipient };
    const templates = acknowledgementFor(rules.acknowledgement, source.acknowledgement);
    if (claimed.ticketId) {
      const context = contexts.get(claimed.ticketId);
      if (!context) return { claimed, source, problem: "its ticket was deleted" };
      return { claimed, source, message: composeAcknowledgement(context, from, to, now, templates) };
    }
    const mail = claimed.inReplyToInboundId ? leadMails.get(claimed.inReplyToInboundId) : undefined;
    if (!mail) return { claimed, source, problem: "the mail this acknowledgement answers was deleted" };
    return { claimed, source, message: composeLeadAcknowledgement(mail, rules, from, to, now, templates) };
  });
}

/** The built MIMEs, and on tickets their messages and thread links, in one transaction. */
async function storeBuilt(ctx: Context, built: (BuiltMessage & Composed)[]): Promise<void> {
  if (built.length === 0) return;
  const writes = pendingWrites();
  for (const b of built) {
    if (b.claimed.ticketId) {
      stageOutboundTicketMessage({ ticketId: b.claimed.ticketId, outboundMessageId: b.id, kind: "auto_reply", message: b.message, messageId: b.messageId }, writes);
    }
  }
  await ctx.db.transaction(async (tx) => {
    await storeBuiltMessages(tx, built);
    await writeStaged(tx, writes, ctx.clock.now());
  });
}

const unique = (ids: (string | null)[]): string[] => [...new Set(ids.filter((id): id is string => id !== null))];
