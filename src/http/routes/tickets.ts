import { Router } from "express";
import type { Context } from "../../context.js";

export function ticketRoutes(_ctx: Context): Router {
  return Router();
}
