// Public (non-admin) endpoints of the Gmail source: OAuth callback and push notifications.
import { Router } from "express";
import type { Context } from "../../context.js";

export function gmailRoutes(_ctx: Context): Router {
  return Router();
}
