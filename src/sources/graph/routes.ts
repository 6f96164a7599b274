// Public (non-admin) endpoints of the Graph source: the OAuth callback and the push endpoints.
// Mounted before any JSON parser: the push endpoints read their raw body themselves, and answer
// Graph's validation handshake (a `validationToken` query) before reading any body at all.
import express, { Router, type NextFunction, type Request, type Response } from "express";
import type { Context } from "../../context.ts";
import { AppError, payloadTooLarge } from "../../errors.ts";
import { withTooLarge } from "../../http/body-limit.ts";
import { nulProblems } from "../../http/validate.ts";
import { acceptChangeNotifications, acceptLifecycleNotifications, type Accepted } from "./accept-notifications.ts";
import { completeGraphAuthorization } from "./complete-authorization.ts";
import { OAUTH_CALLBACK_PATH } from "./graph-endpoints.ts";
import { parseChangeNotifications, parseLifecycleNotifications, type Parsed } from "./graph-notifications.ts";
import { authorizationPage } from "./authorization-page.ts";

// Fixed, not MAX_MESSAGE_BYTES: Graph's notifications carry ids, never mail, and are far smaller.
const MAX_NOTIFICATION_BYTES = 4 * 1024 * 1024;

export function graphRoutes(ctx: Context): Router {
  const router = Router();
  const rawBody = withTooLarge(express.raw({ type: () => true, limit: MAX_NOTIFICATION_BYTES }), () =>
    payloadTooLarge(
      "A Graph notification body",
      MAX_NOTIFICATION_BYTES,
      "this limit is fixed and Graph's notifications are far smaller: check what is posting to this URL.",
    ),
  );

  router.get(OAUTH_CALLBACK_PATH, async (req, res) => {
    const q = (name: string) => (typeof req.query[name] === "string" ? (req.query[name] as string) : undefined);
    const outcome = await completeGraphAuthorization(ctx, {
      code: q("code"),
      state: q("state"),
      error: q("error"),
      errorDescription: q("error_description"),
    });
    const page = authorizationPage(outcome);
    res.status(page.status).type("html").set("Cache-Control", "no-store").send(page.html);
  });

  router.post("/push/graph", validationHandshake, rawBody, pushHandler(ctx, parseChangeNotifications, acceptChangeNotifications));
  router.post(
    "/push/graph/lifecycle",
    validationHandshake,
    rawBody,
    pushHandler(ctx, parseLifecycleNotifications, acceptLifecycleNotifications),
  );
  return router;
}

/** Graph proves it reaches us before creating a subscription: echo the decoded token, as text, at once. */
function validationHandshake(req: Request, res: Response, next: NextFunction): void {
  const raw = req.query.validationToken;
  const token = Array.isArray(raw) ? raw[0] : raw;
  if (typeof token !== "string") return next();
  res.status(200).type("text/plain").set("X-Content-Type-Options", "nosniff").send(token);
}

function pushHandler<T>(
  ctx: Context,
  parse: (body: Buffer) => Parsed<T>,
  accept: (ctx: Context, notifications: T[], from: string) => Promise<Accepted>,
) {
  return async (req: Request, res: Response) => {
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const parsed = parse(body);
    if (!parsed.ok) {
      throw new AppError("invalid_notification", 400, `This is not a Microsoft Graph notification: ${parsed.reason}.`);
    }
    // Graph never sends a NUL, and Postgres cannot look one up.
    const nul = nulProblems(parsed.notifications)[0];
    if (nul) throw new AppError("invalid_notification", 400, `This is not a Microsoft Graph notification: value.${nul.field} ${nul.message}.`);
    // Durable first, acknowledged after: a failure here answers 5xx and Graph delivers again.
    const result = await accept(ctx, parsed.notifications, req.ip ?? "unknown");
    res.status(202).json(result);
  };
}
