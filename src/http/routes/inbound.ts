// Raw MIME in: POST /api/inbound stores the bytes (status `received`) and answers 202 at once;
// the pipeline worker does the rest. Reprocess puts a message back in the queue.
import express, { Router } from "express";
import { createHash } from "node:crypto";
import { eq } from "drizzle-orm";
import { z } from "zod";
import type { Context } from "../../context.ts";
import { AppError, conflict, notFound, payloadTooLarge, validationError } from "../../errors.ts";
import { storeInbound } from "../../db/inbound-store.ts";
import { REPROCESSABLE, requeueInbound } from "../../db/inbound-claims.ts";
import { inboundMessages, mailSources } from "../../db/schema.ts";
import { withTooLarge } from "../body-limit.ts";
import { parseId } from "../params.ts";
import { parseWith } from "../validate.ts";

const intakeQuery = z.object({ sourceId: z.uuid("expected the id of a mail source (create one with kind \"api\")") }).loose();

export function inboundRoutes(ctx: Context): Router {
  const router = Router();
  const limit = ctx.config.maxMessageBytes;
  const tooLarge = () => payloadTooLarge("The message", limit, "raise MAX_MESSAGE_BYTES to accept it.");

  router.post(
    "/inbound",
    (req, _res, next) => {
      const declared = Number(req.headers["content-length"] ?? NaN);
      if (declared > limit) return next(tooLarge());
      if (!req.is("message/rfc822")) {
        return next(new AppError("unsupported_media_type", 415, "Send the raw email with 'Content-Type: message/rfc822'."));
      }
      next();
    },
    // A chunked body declares no length: the parser stops it at the limit.
    withTooLarge(express.raw({ type: () => true, limit }), tooLarge),
    async (req, res) => {
      const { sourceId } = parseWith(intakeQuery, req.query, "sourceId");
      const raw = req.body as Buffer;
      if (!Buffer.isBuffer(raw) || raw.length === 0) {
        throw validationError([{ field: "body", message: "the body is empty: send the raw RFC 822 message" }]);
      }
      const [source] = await ctx.db.select({ id: mailSources.id }).from(mailSources).where(eq(mailSources.id, sourceId));
      if (!source) throw validationError([{ field: "sourceId", message: `no mail source ${sourceId}` }]);
      // The same bytes posted twice are one message: a client may retry safely.
      const providerMessageId = "sha256:" + createHash("sha256").update(raw).digest("hex");
      const stored = await storeInbound(ctx.db, { sourceId, providerMessageId, raw, receivedAt: ctx.clock.now() });
      ctx.database.wake("inbound");
      const [row] = await ctx.db.select({ status: inboundMessages.status }).from(inboundMessages).where(eq(inboundMessages.id, stored.id));
      res.status(202).json({ id: stored.id, status: row?.status ?? "received", created: stored.created });
    },
  );

  router.post("/inbound-messages/:id/reprocess", async (req, res) => {
    const id = parseId(req.params.id, "Inbound message");
    const [row] = await ctx.db
      .select({ status: inboundMessages.status, purged: inboundMessages.rawPurgedAt })
      .from(inboundMessages)
      .where(eq(inboundMessages.id, id));
    if (!row) throw notFound("Inbound message", id);
    if (row.purged) throw new AppError("raw_purged", 410, "The raw bytes of this message were purged by retention; it cannot be reprocessed.");
    if (!(REPROCESSABLE as readonly string[]).includes(row.status)) {
      throw conflict(
        "not_reprocessable",
        row.status === "received"
          ? "This message is already waiting to be processed."
          : `This message already had its effect (status ${row.status}); reprocessing it would act twice.`,
        { status: row.status, reprocessable: REPROCESSABLE },
      );
    }
    await requeueInbound(ctx.db, id, ctx.clock.now());
    ctx.database.wake("inbound");
    res.status(202).json({ id, status: "received" });
  });
  return router;
}
