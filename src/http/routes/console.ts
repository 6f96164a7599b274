// The admin console: static files served at /console. It talks to the same /api as everyone else.
import express, { Router } from "express";
import { fileURLToPath } from "node:url";

export const CONSOLE_DIR = fileURLToPath(new URL("../../../console", import.meta.url));

export function consoleRoutes(): Router {
  const router = Router();
  router.use("/console", express.static(CONSOLE_DIR, { index: "index.html", fallthrough: true }));
  return router;
}
