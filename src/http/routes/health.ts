import { Router } from "express";
import type { Context } from "../../context.js";

export function healthRoutes(ctx: Context): Router {
  const router = Router();
  router.get("/healthz", (_req, res) => void res.json({ ok: true }));
  router.get("/readyz", async (_req, res) => {
    try {
      await ctx.database.ping();
      res.json({ ok: true, database: ctx.database.kind });
    } catch (err) {
      ctx.log.warn({ err }, "readiness check failed");
      res.status(503).json({ error: { code: "not_ready", message: "The database does not answer; check DATABASE_URL and that Postgres is running." } });
    }
  });
  return router;
}
