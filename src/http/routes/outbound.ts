// Mail out: a tech's reply on a ticket, and the outbox of outgoing mail with every attempt.
// The reply route parses its own JSON body: attachments travel in it as base64, so its limit
// follows MAX_MESSAGE_BYTES (the same limit as incoming mail), not the admin API's 1 MiB.
import express, { Router } from "express";
import { z } from "zod";
import type { Context } from "../../context.ts";
import { conflict, notFound, payloadTooLarge } from "../../errors.ts";
import { attemptsOf, findOutbound, listOutbound, requeueOutbound, type OutboundRow } from "../../db/outbound-messages.ts";
import { OUTBOUND_KINDS, OUTBOUND_STATUSES } from "../../db/statuses.ts";
import { emailAddress } from "../../sources/source-input.ts";
import { queueReply } from "../../outbound/queue-reply.ts";
import { withTooLarge } from "../body-limit.ts";
import { requireJsonContentType } from "../json-body.ts";
import { parseListQuery } from "../list-query.ts";
import { parsePage, toPage } from "../pagination.ts";
import { parseId } from "../params.ts";
import { parseWith, refuseNulInBody } from "../validate.ts";

const attachmentInput = z
  .object({
    filename: z.string().trim().min(1, "must not be empty").max(255),
    contentType: z
      .string()
      .trim()
      .regex(/^[\w.+-]+\/[\w.+-]+$/, "expected a MIME type such as application/pdf"),
    contentBase64: z.string().regex(/^[A-Za-z0-9+/\r\n]*={0,2}\s*$/, "expected the file's bytes in base64"),
  })
  .strict();

const replyInput = z
  .object({
    text: z.string().refine((t) => t.trim() !== "", "must not be empty: the reply's text"),
    html: z.string().optional(),
    cc: z.array(emailAddress()).max(50).optional(),
    bcc: z.array(emailAddress()).max(50).optional(),
    attachments: z.array(attachmentInput).max(100).optional(),
    sourceId: z.uuid("expected a source id").optional(),
  })
  .strict();

const outboundQuery = z
  .object({
    ticketId: z.uuid("expected a ticket id").optional(),
    status: z.enum(OUTBOUND_STATUSES).optional(),
    kind: z.enum(OUTBOUND_KINDS).optional(),
    limit: z.unknown().optional(),
    cursor: z.unknown().optional(),
  })
  .strict();

const idempotencyKey = z.string().trim().min(1).max(255).regex(/^[\x21-\x7e]+$/, "visible ASCII characters only");

export function outboundRoutes(ctx: Context): Router {
  const router = Router();
  const limit = Math.ceil((ctx.config.maxMessageBytes * 4) / 3) + 64 * 1024;
  const replyBody = withTooLarge(express.json({ limit, type: ["application/json", "application/*+json"] }), () =>
    payloadTooLarge("The reply", ctx.config.maxMessageBytes, "send smaller attachments (MAX_MESSAGE_BYTES is the limit of a whole message)."),
  );

  router.post("/tickets/:id/replies", requireJsonContentType, replyBody, refuseNulInBody, async (req, res) => {
    const ticketId = parseId(req.params.id, "Ticket");
    const input = parseWith(replyInput, req.body);
    const key = req.header("idempotency-key");
    const parsedKey = key === undefined ? null : parseWith(idempotencyKey, key, "Idempotency-Key");
    const attachments = (input.attachments ?? []).map((a) => ({ filename: a.filename, contentType: a.contentType, content: Buffer.from(a.contentBase64, "base64") }));
    const total = attachments.reduce((sum, a) => sum + a.content.length, 0) + Buffer.byteLength(input.text) + Buffer.byteLength(input.html ?? "");
    if (total > ctx.config.maxMessageBytes) {
      throw payloadTooLarge("The reply", ctx.config.maxMessageBytes, "send smaller attachments (MAX_MESSAGE_BYTES is the limit of a whole message).");
    }
    const { created, row } = await queueReply(ctx, ticketId, { ...input, attachments }, parsedKey);
    res.status(created ? 202 : 200).json(view(row, []));
  });

  router.get("/outbound-messages", async (req, res) => {
    const filter = parseListQuery(outboundQuery, req.query);
    const page = parsePage(req.query);
    const rows = await listOutbound(ctx.db, filter, page);
    const attempts = await attemptsOf(ctx.db, rows.map((r) => r.id));
    res.json(toPage(rows, page, (row) => view(row, attempts.get(row.id) ?? [])));
  });

  router.get("/outbound-messages/:id", async (req, res) => {
    const id = parseId(req.params.id, "Outbound message");
    const row = await findOutbound(ctx.db, id);
    if (!row) throw notFound("Outbound message", id);
    const attempts = await attemptsOf(ctx.db, [id]);
    res.json(view(row, attempts.get(id) ?? []));
  });

  router.get("/outbound-messages/:id/raw", async (req, res) => {
    const id = parseId(req.params.id, "Outbound message");
    const row = await findOutbound(ctx.db, id);
    if (!row) throw notFound("Outbound message", id);
    if (!row.raw) throw conflict("not_built", "This acknowledgement is built when it is first sent; it has no MIME yet.");
    res.type("message/rfc822").send(row.raw);
  });

  router.post("/outbound-messages/:id/retry", async (req, res) => {
    const id = parseId(req.params.id, "Outbound message");
    const row = await requeueOutbound(ctx.db, id, ctx.clock.now());
    if (!row) {
      const existing = await findOutbound(ctx.db, id);
      if (!existing) throw notFound("Outbound message", id);
      throw conflict("not_retryable", `Only a failed or waiting message can be retried; this one is ${existing.status}.`, { status: existing.status });
    }
    ctx.database.wake("outbound");
    res.status(202).json(view(row, []));
  });

  return router;
}

type AttemptRow = Awaited<ReturnType<typeof attemptsOf>> extends Map<string, infer A> ? A : never;

function view(row: OutboundRow, attempts: AttemptRow) {
  return {
    id: row.id,
    ticketId: row.ticketId,
    sourceId: row.sourceId,
    kind: row.kind,
    status: row.status,
    to: row.to,
    cc: row.cc,
    bcc: row.bcc,
    subject: row.subject,
    messageId: row.messageId,
    providerMessageId: row.providerId,
    lastError: row.lastError,
    attemptCount: row.attempts,
    nextAttemptAt: row.status === "queued" ? row.nextAttemptAt : null,
    createdAt: row.createdAt,
    sentAt: row.sentAt,
    attempts: attempts.map((a) => ({ at: a.attemptedAt, outcome: a.outcome, error: a.error, providerMessageId: a.providerId, durationMs: a.durationMs })),
  };
}
