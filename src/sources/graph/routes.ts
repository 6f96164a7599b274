// Public (non-admin) endpoints of the Graph source: OAuth callback and push notifications.
import { Router } from "express";
import type { Context } from "../../context.js";

export function graphRoutes(_ctx: Context): Router {
  return Router();
}
