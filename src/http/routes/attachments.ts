import { Router } from "express";
import type { Context } from "../../context.js";

export function attachmentRoutes(_ctx: Context): Router {
  return Router();
}
