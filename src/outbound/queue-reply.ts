// A tech's reply on a ticket (POST /api/tickets/:id/replies): composed and built once, then
// queued with its ticket message and thread link in one transaction, and sent by the outbox.
// The same Idempotency-Key with the same body answers the message it queued, never a second one.
import { createHash } from "node:crypto";
import type { Context } from "../context.ts";
import { conflict, notFound, unprocessable } from "../errors.ts";
import { lastProviderThread, queueOutbound, type OutboundRow } from "../db/outbound-messages.ts";
import { loadReplyContext } from "../db/reply-context.ts";
import { findSource, type SourceRecord } from "../db/sources.ts";
import { normaliseMessageId } from "../pipeline/message-id.ts";
import { buildOutboundMime } from "./build-message.ts";
import { ownLoopToken } from "./loop-token.ts";
import { composeReply, type ReplyBody } from "./compose-message.ts";
import { stageOutboundTicketMessage, writeStaged } from "./outbound-ticket-message.ts";
import { cannotSendReason } from "./send-through-source.ts";

export type ReplyRequest = ReplyBody & { sourceId?: string };

export async function queueReply(
  ctx: Context,
  ticketId: string,
  request: ReplyRequest,
  idempotencyKey: string | null,
): Promise<{ created: boolean; row: OutboundRow }> {
  const context = await loadReplyContext(ctx.db, ticketId);
  if (!context) throw notFound("Ticket", ticketId);
  const source = await sendingSource(ctx, request.sourceId ?? context.ticket.sourceId);
  if (!context.customer) {
    throw conflict("no_recipient", `Ticket ${context.ticket.number} has no contact and no sender to reply to.`);
  }
  const now = ctx.clock.now();
  const message = composeReply(context, { address: source.address, name: source.name }, context.customer, request, now);
  const raw = await buildOutboundMime(message, ownLoopToken(ctx));
  const messageId = normaliseMessageId(message.messageId)!;
  const requestHash = idempotencyKey ? hashRequest(ticketId, request) : null;
  const providerThreadId = await lastProviderThread(ctx.db, ticketId, source.id);
  const queued = await ctx.db.transaction(async (tx) => {
    const result = await queueOutbound(tx, {
      ticketId,
      sourceId: source.id,
      providerThreadId,
      kind: "reply",
      recipient: context.customer!.address.toLowerCase(),
      to: [context.customer!.address],
      cc: request.cc ?? [],
      bcc: request.bcc ?? [],
      subject: message.subject,
      messageId,
      raw,
      idempotencyKey,
      requestHash,
      nextAttemptAt: now,
      createdAt: now,
      updatedAt: now,
    });
    if (result.created) {
      await writeStaged(tx, stageOutboundTicketMessage({ ticketId, outboundMessageId: result.row.id, kind: "reply", message, messageId }), now);
    }
    return result;
  });
  if (!queued.created && queued.row.requestHash !== requestHash) {
    throw unprocessable(
      "idempotency_key_reused",
      "This Idempotency-Key was already used with a different request; use a new key for a new reply.",
      { outboundMessageId: queued.row.id },
    );
  }
  if (queued.created) ctx.database.wake("outbound");
  return queued;
}

/** The source the reply leaves through: the one asked for, else the ticket's; 409 when it cannot send. */
async function sendingSource(ctx: Context, sourceId: string | null): Promise<SourceRecord> {
  if (!sourceId) throw conflict("no_source", "The ticket came through no source that could send: give a sourceId of a source that can.");
  const source = await findSource(ctx.db, sourceId);
  if (!source) throw notFound("Source", sourceId);
  const reason = cannotSendReason(source);
  if (reason) throw conflict("source_cannot_send", `Replies cannot be sent: ${reason}.`, { sourceId });
  return source;
}

function hashRequest(ticketId: string, request: ReplyRequest): string {
  return createHash("sha256").update(JSON.stringify([ticketId, request.sourceId ?? null, request.text, request.html ?? null, request.cc ?? [], request.bcc ?? [],
    (request.attachments ?? []).map((a) => [a.filename, a.contentType, createHash("sha256").update(a.content).digest("hex")])])).digest("hex");
}
