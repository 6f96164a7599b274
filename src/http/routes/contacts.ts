import { Router } from "express";
import type { Context } from "../../context.js";

export function contactRoutes(_ctx: Context): Router {
  return Router();
}
