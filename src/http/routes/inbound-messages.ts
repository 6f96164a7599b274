import { Router } from "express";
import type { Context } from "../../context.js";

export function inboundMessageRoutes(_ctx: Context): Router {
  return Router();
}
