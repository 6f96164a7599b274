// The admin console: static files served at /console. It talks to the same /api as everyone else.
import express, { Router } from "express";
import { fileURLToPath } from "node:url";

export const CONSOLE_DIR = fileURLToPath(new URL("../../../console", import.meta.url));

// Everything the console needs comes from this server; nothing runs inline and no page may frame it.
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join("; ");

export function consoleRoutes(): Router {
  const router = Router();
  router.use("/console", (_req, res, next) => {
    res.setHeader("Content-Security-Policy", CONTENT_SECURITY_POLICY);
    res.setHeader("X-Content-Type-Options", "nosniff");
    res.setHeader("Referrer-Policy", "no-referrer");
    next();
  });
  // max-age=0: browsers revalidate (ETag), so an upgraded server's console is picked up at the next load.
  router.use("/console", express.static(CONSOLE_DIR, { index: "index.html", fallthrough: true, cacheControl: true, maxAge: 0 }));
  return router;
}
