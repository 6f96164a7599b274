import { Router } from "express";
import type { Context } from "../../context.js";

export function techRoutes(_ctx: Context): Router {
  return Router();
}
