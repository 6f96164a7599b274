import { Router } from "express";
import type { Context } from "../../context.js";

export function subscriptionRoutes(_ctx: Context): Router {
  return Router();
}
