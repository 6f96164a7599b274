import { Router } from "express";
import type { Context } from "../../context.js";

export function settingsRoutes(_ctx: Context): Router {
  return Router();
}
