import { Router } from "express";
import type { Context } from "../../context.js";

export function inboundRoutes(_ctx: Context): Router {
  return Router();
}
