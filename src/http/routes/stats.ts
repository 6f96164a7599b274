// The console's overview (API.md "Stats"): counts per bucket of a window, signal → ticket latency,
// a line per source and what needs a person, all read from the stored rows.
import { Router } from "express";
import { z } from "zod";
import type { Context } from "../../context.ts";
import { validationError } from "../../errors.ts";
import { readStats } from "../../stats/read-stats.ts";
import { BUCKET_NAMES, planStatsWindow } from "../../stats/stats-window.ts";
import { isoTime } from "../iso-time.ts";
import { parseListQuery } from "../list-query.ts";

const statsQuery = z
  .object({
    from: isoTime.optional(),
    to: isoTime.optional(),
    bucket: z.enum(BUCKET_NAMES, { error: `expected one of ${BUCKET_NAMES.join(", ")} (or none, to have one chosen from the window)` }).optional(),
  })
  .strict();

export function statsRoutes(ctx: Context): Router {
  const router = Router();

  router.get("/stats", async (req, res) => {
    const now = ctx.clock.now();
    const plan = planStatsWindow(parseListQuery(statsQuery, req.query), now);
    if (plan.kind === "invalid") throw validationError(plan.problems);
    res.json(await readStats(ctx.db, plan.window, now));
  });

  return router;
}
