// The admin console: static files served at /console. It talks to the same /api as everyone else.
import express, { Router } from "express";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const CONSOLE_DIR = fileURLToPath(new URL("../../../console", import.meta.url));

// The charting library (uPlot, a dependency) is served from node_modules as it was installed, at
// /console/vendor/uplot/: the console loads nothing from elsewhere and needs no build step.
const UPLOT_DIST = path.dirname(createRequire(import.meta.url).resolve("uplot"));
const VENDOR_FILES: Record<string, string> = {
  "/console/vendor/uplot/uPlot.esm.js": path.join(UPLOT_DIST, "uPlot.esm.js"),
  "/console/vendor/uplot/uPlot.min.css": path.join(UPLOT_DIST, "uPlot.min.css"),
};

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
  for (const [url, file] of Object.entries(VENDOR_FILES)) router.get(url, (_req, res, next) => res.sendFile(file, { maxAge: 0 }, next));
  // max-age=0: browsers revalidate (ETag), so an upgraded server's console is picked up at the next load.
  router.use("/console", express.static(CONSOLE_DIR, { index: "index.html", fallthrough: true, cacheControl: true, maxAge: 0 }));
  return router;
}
