import { Router } from "express";
import type { Context } from "../../context.js";

export function companyRoutes(_ctx: Context): Router {
  return Router();
}
