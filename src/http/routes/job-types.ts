import { Router } from "express";
import type { Context } from "../../context.js";

export function jobTypeRoutes(_ctx: Context): Router {
  return Router();
}
