import { Router } from "express";
import type { Context } from "../../context.ts";
import { DATABASE_RETRY_AFTER_S } from "../error-middleware.ts";

export function healthRoutes(ctx: Context): Router {
  const router = Router();
  router.get("/healthz", (_req, res) => void res.json({ ok: true }));
  router.get("/readyz", async (_req, res) => {
    try {
      await ctx.database.ping(800);
      res.json({ ok: true, database: ctx.database.kind });
    } catch (err) {
      if (!ctx.databaseOutage.report(err)) ctx.log.warn({ err }, "readiness check failed");
      res.set("Retry-After", String(DATABASE_RETRY_AFTER_S));
      res.status(503).json({ error: { code: "not_ready", message: "The database does not answer; check DATABASE_URL and that Postgres is running." } });
    }
  });
  return router;
}
