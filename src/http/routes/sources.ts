import { Router } from "express";
import type { Context } from "../../context.js";

export function sourceRoutes(_ctx: Context): Router {
  return Router();
}
