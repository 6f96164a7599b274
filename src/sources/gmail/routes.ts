// Public (non-admin) endpoints of the Gmail source: the OAuth callback and Pub/Sub push.
// Mounted at the app root before any JSON parser: the push route parses its own body.
import express, { Router } from "express";
import type { Context } from "../../context.ts";
import { payloadTooLarge } from "../../errors.ts";
import { isBodyTooLarge } from "../../http/body-limit.ts";
import { createNotificationIntake } from "./accept-notification.ts";
import { authorizationPage } from "./authorization-page.ts";
import { completeGmailAuthorization } from "./complete-authorization.ts";
import { OAUTH_CALLBACK_PATH, PUSH_PATH } from "./gmail-constants.ts";
import { decodeGmailNotification } from "./gmail-notification.ts";
import { createPushVerifier } from "./verify-push-token.ts";

export function gmailRoutes(ctx: Context): Router {
  const router = Router();
  const verify = createPushVerifier(ctx);
  const acceptGmailNotification = createNotificationIntake(ctx);

  router.get(OAUTH_CALLBACK_PATH, async (req, res) => {
    const q = (name: string) => (typeof req.query[name] === "string" ? (req.query[name] as string) : undefined);
    const outcome = await completeGmailAuthorization(ctx, { code: q("code"), state: q("state"), error: q("error") });
    const page = authorizationPage(outcome);
    res.status(page.status).type("html").send(page.html);
  });

  router.post(PUSH_PATH, async (req, res) => {
    // Authenticate before reading the body: a forged push costs no parsing and changes nothing.
    const verdict = await verify(req.headers.authorization);
    if (!verdict.ok) {
      if (verdict.reason !== null) ctx.log.warn({ reason: verdict.reason }, "Gmail push rejected");
      res.status(verdict.status).json({ error: { code: verdict.code, message: verdict.message } });
      return;
    }
    const body = await readJson(req, res);
    if (body === undefined) return;
    const message = (body as { message?: { data?: unknown; messageId?: unknown } } | null)?.message;
    const decoded = decodeGmailNotification(typeof message?.data === "string" ? message.data : null);
    if (!decoded.ok) {
      // A verified sender with a body that will never decode: acknowledge it, or Pub/Sub retries it forever.
      ctx.log.warn({ reason: decoded.reason, messageId: message?.messageId }, "Gmail push ignored: not a Gmail notification");
      res.status(204).end();
      return;
    }
    const accepted = await acceptGmailNotification(decoded.notification);
    if (accepted.kind === "unknown_mailbox") {
      ctx.log.warn({ emailAddress: accepted.emailAddress }, "Gmail push for a mailbox no Gmail source reads; acknowledged and ignored");
    }
    res.status(204).end();
  });

  return router;
}

// Fixed, not MAX_MESSAGE_BYTES: a push carries a notification of a few hundred bytes, never mail.
const MAX_PUSH_BYTES = 1024 * 1024;
const jsonParser = express.json({ limit: MAX_PUSH_BYTES, type: () => true });

/** The parsed body; undefined once a 400 was answered; rejects with a 413 for a body over the limit. */
function readJson(req: express.Request, res: express.Response): Promise<unknown> {
  return new Promise((resolve, reject) => {
    jsonParser(req, res, (err?: unknown) => {
      if (isBodyTooLarge(err)) {
        reject(
          payloadTooLarge(
            "The push body",
            MAX_PUSH_BYTES,
            "this limit is fixed and a Gmail notification is far smaller: check the Pub/Sub subscription that pushes here.",
          ),
        );
        return;
      }
      if (err) {
        res.status(400).json({ error: { code: "invalid_json", message: "The push body is not JSON: expected a Pub/Sub push envelope {message: {data}}." } });
        resolve(undefined);
        return;
      }
      resolve(req.body ?? null);
    });
  });
}
