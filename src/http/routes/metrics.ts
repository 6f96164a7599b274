// GET /metrics for Prometheus: no token (scrapers rarely carry one), so it holds nothing secret.
import { Router } from "express";
import type { Context } from "../../context.ts";

export function metricsRoutes(ctx: Context): Router {
  const router = Router();
  router.get("/metrics", async (_req, res) => {
    const { contentType, body } = await ctx.metrics.render();
    res.setHeader("Content-Type", contentType);
    res.setHeader("Cache-Control", "no-store");
    res.send(body);
  });
  return router;
}
