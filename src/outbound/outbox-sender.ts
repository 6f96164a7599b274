// The outbox's senders: loops that each claim one due outgoing mail, send it through its
// source's provider, and write what the provider said, in three phases as a webhook attempt is
// made (prepare → send → record):
//
//   prepare  an acknowledgement queued by the pipeline is built on its first claim (its MIME,
//            Message-ID, ticket message and thread link, stored before anything is sent)
//   send     through the source (send-through-source.ts), with nothing else in between
//   record   the attempt and the new status, with message.sent / message.failed, at once
//
// A crash between the provider's acceptance and the record is the one window in which a mail can
// go out twice: its lease runs out and another sender sends it again.
import type { Context } from "../context.ts";
import type { Executor } from "../db/client.ts";
import { claimOutbound, recordSendResult, storeBuiltMessage, type ClaimedOutbound, type OutboundRow, type SendResult } from "../db/outbound-messages.ts";
import { leadMailOf, loadReplyContext, ticketSummary } from "../db/reply-context.ts";
import { getTicketRules } from "../db/settings.ts";
import { findSource, type SourceRecord } from "../db/sources.ts";
import { recordEvent } from "../delivery/record-event.ts";
import { normaliseMessageId } from "../pipeline/message-id.ts";
import { startWorkLoop, type WorkLoop } from "../scheduler/work-loop.ts";
import { createSmtpPool } from "../sources/imap/smtp-pool.ts";
import { sendViaSmtp, type SmtpSender } from "../sources/imap/smtp-sender.ts";
import { buildOutboundMime, type OutboundMessage } from "./build-message.ts";
import { composeAcknowledgement, composeLeadAcknowledgement } from "./compose-message.ts";
import { ownLoopToken } from "./loop-token.ts";
import { stageOutboundTicketMessage, writeStaged } from "./outbound-ticket-message.ts";
import { sendThroughSource, type SendOutcome } from "./send-through-source.ts";

/** The longest a provider takes to answer (SMTP's timeout is 30 s), and a margin, before a claim is taken again. */
const LEASE_MS = 120_000;

export function startOutboxSender(ctx: Context): WorkLoop {
  const smtp = createSmtpPool({ maxConnections: ctx.config.outbound.concurrency });
  const loop = startWorkLoop({
    name: "outbox",
    database: ctx.database,
    channel: "outbound",
    concurrency: ctx.config.outbound.concurrency,
    pollMs: 1000,
    log: ctx.log,
    databaseOutage: ctx.databaseOutage,
    step: () => sendNext(ctx, smtp.send),
  });
  return {
    stop: async () => {
      await loop.stop();
      smtp.close();
    },
  };
}

/** Sends one due message; false when none was due. Alone (a test's call), SMTP gets a connection of its own. */
export async function sendNext(ctx: Context, smtp: SmtpSender = sendViaSmtp): Promise<boolean> {
  const now = ctx.clock.now();
  const claimed = await claimOutbound(ctx.db, { now, leaseUntil: new Date(now.getTime() + LEASE_MS) });
  if (!claimed) return false;
  const source = claimed.sourceId ? await findSource(ctx.db, claimed.sourceId) : null;
  const ready = source ? await prepare(ctx, claimed, source) : { problem: "its source was deleted" };
  const attemptedAt = ctx.clock.now();
  const outcome: SendOutcome = "problem" in ready ? { kind: "permanent", error: ready.problem } : await send(ctx, claimed, source!, ready.raw, smtp);
  await record(ctx, claimed, source, resultOf(ctx, claimed, outcome, attemptedAt), { attemptedAt, durationMs: Date.now() - attemptedAt.getTime() });
  return true;
}

/**
 * The send phase alone. A provider module that throws is a bug, not the provider's answer: it is
 * logged and counted as a temporary failure, so the message follows the retry schedule to
 * `failed` instead of being claimed again every lease, forever.
 */
async function send(ctx: Context, claimed: ClaimedOutbound, source: SourceRecord, raw: Buffer, smtp: SmtpSender): Promise<SendOutcome> {
  const recipients = [...claimed.to, ...claimed.cc, ...claimed.bcc];
  try {
    return await sendThroughSource(ctx, { source, raw, recipients, bcc: claimed.bcc, providerThreadId: claimed.providerThreadId }, smtp);
  } catch (err) {
    ctx.log.error({ err, outboundMessageId: claimed.id, sourceId: source.id }, "sending an outgoing mail crashed");
    return { kind: "transient", error: `mailgate could not send it: ${(err as Error).message}` };
  }
}

/** The bytes to send: stored at queueing for a reply, built now (once) for an acknowledgement. */
async function prepare(ctx: Context, claimed: ClaimedOutbound, source: SourceRecord): Promise<{ raw: Buffer } | { problem: string }> {
  if (claimed.raw) return { raw: claimed.raw };
  const from = { address: source.address, name: source.name };
  const to = { address: claimed.recipient };
  const now = ctx.clock.now();
  if (!claimed.ticketId) {
    const mail = claimed.inReplyToInboundId ? await leadMailOf(ctx.db, claimed.inReplyToInboundId) : null;
    if (!mail) return { problem: "the mail this acknowledgement answers was deleted" };
    const message = composeLeadAcknowledgement(mail, await getTicketRules(ctx.db), from, to, now);
    return storeBuilt(ctx, claimed, message, null);
  }
  const context = await loadReplyContext(ctx.db, claimed.ticketId);
  if (!context) return { problem: "its ticket was deleted" };
  return storeBuilt(ctx, claimed, composeAcknowledgement(context, from, to, now), context.ticket.id);
}

/** Keeps the built MIME (and, on a ticket, its message and thread link) before the first send. */
async function storeBuilt(ctx: Context, claimed: ClaimedOutbound, message: OutboundMessage, ticketId: string | null): Promise<{ raw: Buffer }> {
  const raw = await buildOutboundMime(message, ownLoopToken(ctx));
  const messageId = normaliseMessageId(message.messageId)!;
  await ctx.db.transaction(async (tx) => {
    await storeBuiltMessage(tx, claimed.id, { messageId, raw, subject: message.subject });
    if (ticketId) {
      await writeStaged(tx, stageOutboundTicketMessage({ ticketId, outboundMessageId: claimed.id, kind: "auto_reply", message, messageId }), ctx.clock.now());
    }
  });
  return { raw };
}

/** A transient failure is tried again on the schedule, and fails once the schedule is used up. */
function resultOf(ctx: Context, claimed: ClaimedOutbound, outcome: SendOutcome, now: Date): SendResult {
  switch (outcome.kind) {
    case "sent":
      return { outcome: "sent", providerId: outcome.providerId, providerThreadId: outcome.threadId };
    case "permanent":
      return { outcome: "permanent", error: outcome.error };
    case "waiting_for_authorization":
      return { outcome: "waiting_for_authorization", error: outcome.error };
    case "transient": {
      const schedule = ctx.config.outbound.retryScheduleSeconds;
      const delaySeconds = schedule[claimed.attempts];
      if (delaySeconds === undefined) return { outcome: "permanent", error: `gave up after ${claimed.attempts + 1} attempts: ${outcome.error}` };
      const delayMs = Math.max(delaySeconds * 1000, outcome.retryAfterMs ?? 0);
      return { outcome: "transient", error: outcome.error, retryAt: new Date(now.getTime() + delayMs) };
    }
  }
}

async function record(ctx: Context, claimed: ClaimedOutbound, source: SourceRecord | null, result: SendResult, at: { attemptedAt: Date; durationMs: number }): Promise<void> {
  const settled = await ctx.db.transaction(async (tx) => {
    const row = await recordSendResult(tx, claimed, result, at);
    if (row && (row.status === "sent" || row.status === "failed")) await recordOutboundEvent(tx, row, source, at.attemptedAt);
    return row;
  });
  ctx.metrics.recordOutboundAttempt(result.outcome, at.durationMs);
  if (settled && (settled.status === "sent" || settled.status === "failed")) ctx.database.wake("deliveries");
  if (result.outcome === "permanent") ctx.log.warn({ outboundMessageId: claimed.id, error: result.error }, "an outgoing mail failed");
}

async function recordOutboundEvent(executor: Executor, row: OutboundRow, source: SourceRecord | null, at: Date): Promise<void> {
  const ticket = row.ticketId ? await ticketSummary(executor, row.ticketId) : null;
  const message = {
    id: row.id,
    kind: row.kind,
    status: row.status as "sent" | "failed",
    messageId: row.messageId,
    providerMessageId: row.providerId,
    to: [...row.to, ...row.cc],
    subject: row.subject,
    attempts: row.attempts,
  };
  const sourceSummary = source ? { id: source.id, name: source.name, kind: source.kind, address: source.address } : null;
  const companyId = ticket?.companyId ?? null;
  const base = { ticket: ticket ? { id: ticket.id, number: ticket.number, subject: ticket.subject } : null, message, source: sourceSummary, at: at.toISOString() };
  if (row.status === "sent") {
    await recordEvent(executor, { type: "message.sent", companyId, data: base, at });
  } else {
    await recordEvent(executor, { type: "message.failed", companyId, data: { ...base, error: { code: "send_failed", message: row.lastError ?? "" } }, at });
  }
}
