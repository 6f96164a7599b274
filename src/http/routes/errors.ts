// The error log ("Admin → System → Error Log"): failed messages, failed deliveries, failed
// renewals, connection failures; newest first, filterable by source, kind and time window.
import { Router } from "express";
import { z } from "zod";
import type { Context } from "../../context.ts";
import { validationError } from "../../errors.ts";
import { listErrorLog } from "../../db/error-log.ts";
import { isoTime } from "../iso-time.ts";
import { parseListQuery } from "../list-query.ts";
import { parsePage, toPage } from "../pagination.ts";

const errorsQuery = z
  .object({
    sourceId: z.uuid("expected a mail source id").optional(),
    kind: z.string().max(100, "expected a kind such as message_failed").optional(),
    since: isoTime.optional(),
    until: isoTime.optional(),
    limit: z.unknown().optional(),
    cursor: z.unknown().optional(),
  })
  .strict();

export function errorLogRoutes(ctx: Context): Router {
  const router = Router();

  router.get("/errors", async (req, res) => {
    const { sourceId, kind, since, until } = parseListQuery(errorsQuery, req.query);
    if (since && until && since >= until) {
      throw validationError([{ field: "until", message: "must be later than since" }]);
    }
    const page = parsePage(req.query);
    const rows = await listErrorLog(ctx.db, { sourceId, kind, since, until }, page);
    // The page cursor is built from `createdAt`; for the error log that is the entry's time.
    const keyed = rows.map((row) => ({ ...row, createdAt: row.at }));
    res.json(toPage(keyed, page, ({ id, at, sourceId, kind, message, details }) => ({ id, at, sourceId, kind, message, details })));
  });

  return router;
}
