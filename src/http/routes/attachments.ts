// Attachment bytes. Always served as a download, never rendered: an HTML or SVG attachment from a
// stranger must not run in the admin's browser under our origin.
import { Router } from "express";
import type { Context } from "../../context.ts";
import { notFound } from "../../errors.ts";
import { findAttachmentContent } from "../../db/tickets.ts";
import { safeAttachmentFilename } from "../../pipeline/attachment-filename.ts";
import { contentDisposition, safeContentType } from "../content-disposition.ts";
import { parseId } from "../params.ts";

export function attachmentRoutes(ctx: Context): Router {
  const router = Router();

  router.get("/attachments/:id/content", async (req, res) => {
    const id = parseId(req.params.id, "Attachment");
    const file = await findAttachmentContent(ctx.db, id);
    if (!file) throw notFound("Attachment", id);
    res.setHeader("Content-Type", safeContentType(file.contentType));
    // The name GET /api/tickets/:id and the webhooks give it, so the saved file is called the same.
    res.setHeader("Content-Disposition", contentDisposition(safeAttachmentFilename(file.filename, file.contentType)));
    res.setHeader("X-Content-Type-Options", "nosniff");
    res.setHeader("Content-Security-Policy", "default-src 'none'; sandbox");
    res.send(file.content);
  });

  return router;
}
