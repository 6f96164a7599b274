// Inbound messages, read side: what each email became and why. Lists never carry the raw bytes;
// /raw serves them alone. (Reprocessing lives with the intake in inbound.ts.)
import { Router } from "express";
import { z } from "zod";
import type { Context } from "../../context.ts";
import { AppError, notFound } from "../../errors.ts";
import { INBOUND_STATUSES, findInboundMessage, findInboundRaw, listInboundMessages } from "../../db/inbound-messages.ts";
import { parsePage, toPage } from "../pagination.ts";
import { parseId } from "../params.ts";
import { parseListQuery } from "../list-query.ts";

const inboundQuery = z
  .object({
    status: z.enum(INBOUND_STATUSES, `expected one of ${INBOUND_STATUSES.join(", ")}`).optional(),
    sourceId: z.uuid("expected a mail source id").optional(),
    limit: z.unknown().optional(),
    cursor: z.unknown().optional(),
  })
  .strict();

export function inboundMessageRoutes(ctx: Context): Router {
  const router = Router();

  router.get("/inbound-messages", async (req, res) => {
    const { status, sourceId } = parseListQuery(inboundQuery, req.query);
    const page = parsePage(req.query);
    const rows = await listInboundMessages(ctx.db, { status, sourceId }, page);
    res.json(toPage(rows, page, (row) => row));
  });

  router.get("/inbound-messages/:id", async (req, res) => {
    const id = parseId(req.params.id, "Inbound message");
    const message = await findInboundMessage(ctx.db, id);
    if (!message) throw notFound("Inbound message", id);
    res.json(message);
  });

  router.get("/inbound-messages/:id/raw", async (req, res) => {
    const id = parseId(req.params.id, "Inbound message");
    const raw = await findInboundRaw(ctx.db, id);
    if (raw === undefined) throw notFound("Inbound message", id);
    if (raw === null) {
      throw new AppError("raw_purged", 410, "The raw bytes of this message were purged by retention; only its summary is kept.");
    }
    res.setHeader("Content-Type", "message/rfc822");
    res.setHeader("Content-Disposition", `attachment; filename="${id}.eml"`);
    res.setHeader("X-Content-Type-Options", "nosniff");
    res.send(raw);
  });

  return router;
}
