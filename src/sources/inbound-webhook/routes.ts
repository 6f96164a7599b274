// POST /push/inbound/:sourceId/:provider: mail services that post each received message to a URL
// (Mailgun routes, SendGrid Inbound Parse, Postmark inbound, Amazon SES through SNS). Public, like
// the other push endpoints: each request proves itself by its provider's own mechanism.
//
// The answer follows the SMTP listener's rule: 2xx only once the raw message is committed to
// inbound_messages (then the pipeline is woken); a refused request stores nothing; a database
// problem is a 503 with Retry-After, which every one of these services retries.
import express, { Router, type Request, type Response } from "express";
import { createHash } from "node:crypto";
import type { Context } from "../../context.ts";
import { findSource, type SourceRecord } from "../../db/sources.ts";
import { storedRawSha256, storeInbound } from "../../db/inbound-store.ts";
import { AppError, notFound, payloadTooLarge } from "../../errors.ts";
import { withTooLarge } from "../../http/body-limit.ts";
import { parseId } from "../../http/params.ts";
import { checkBasicAuth } from "./check-basic-auth.ts";
import { readMailgun, readPostmark, readSendgrid, type PostedMail } from "./read-posted-mail.ts";
import { readSes, type SesVerifier } from "./read-ses.ts";
import { isWebhookProvider, PASSWORD_SECRET_FIELD, SIGNING_KEY_SECRET_FIELD, storedWebhookOf, type StoredWebhook, type WebhookProvider } from "./webhook-settings.ts";

// A form or a JSON document carries the message encoded (Postmark's also carries it parsed, its
// attachments in base64), so the body may be a few times the message.
const BODY_FACTOR = 4;
// A disabled source is a decision someone took: ask again in a minute, not in Retry-After's 5 s.
const DISABLED_RETRY_AFTER_S = 60;

const wrongCredentials: Extract<PostedMail, { kind: "refused" }> = {
  kind: "refused",
  status: 401,
  code: "unauthorized",
  message: "Missing or wrong HTTP Basic credentials: put the source's user and password in the URL given to the mail service (https://user:password@host/…).",
  reason: "basic credentials",
};
const tokenReused: Extract<PostedMail, { kind: "refused" }> = {
  kind: "refused",
  status: 401,
  code: "unauthorized",
  message: "This signature was already used: a request is accepted once.",
  reason: "token reused",
};

export function inboundWebhookRoutes(ctx: Context, ses: SesVerifier): Router {
  const router = Router();
  const limit = ctx.config.maxMessageBytes;
  const tooLarge = () => payloadTooLarge("The message", limit, "raise MAX_MESSAGE_BYTES to accept it.");
  const rawBody = withTooLarge(express.raw({ type: () => true, limit: limit * BODY_FACTOR + 1024 * 1024 }), tooLarge);

  const handler = async (req: Request, res: Response) => {
    const { source, stored, provider, secrets } = await loadSource(ctx, req);
    // Credentials in a header are checked before the body is read: a wrong guess costs no parsing.
    const basicAuth = provider === "sendgrid" || provider === "postmark";
    if (basicAuth && !checkBasicAuth(req.headers.authorization, stored.user ?? "", String(secrets[PASSWORD_SECRET_FIELD] ?? ""))) {
      return refuse(ctx, res, source, provider, wrongCredentials);
    }
    await new Promise<void>((resolve, reject) => rawBody(req, res, (err?: unknown) => (err ? reject(err as Error) : resolve())));
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const posted = await readPosted(ctx, ses, stored, secrets, body, req.headers["content-type"]);
    if (posted.kind === "refused") return refuse(ctx, res, source, provider, posted);
    if (posted.kind === "answered") return void res.status(200).json(posted.body);
    if (posted.raw.length > limit) throw tooLarge();
    if (source.status === "disabled") {
      res.set("Retry-After", String(DISABLED_RETRY_AFTER_S));
      throw new AppError("source_disabled", 503, "This source is disabled: the mail is not taken now; the service will post it again.");
    }
    const saved = await storeInbound(ctx.db, { sourceId: source.id, providerMessageId: posted.providerMessageId, raw: posted.raw, receivedAt: ctx.clock.now() });
    if (!saved.created && posted.oneTimeToken) {
      // The same token with the same bytes is the service posting again after losing our answer;
      // with other bytes it is a captured signature put on another message.
      const sha = createHash("sha256").update(posted.raw).digest("hex");
      if ((await storedRawSha256(ctx.db, source.id, posted.providerMessageId)) !== sha) {
        return refuse(ctx, res, source, provider, tokenReused);
      }
    }
    if (saved.created) ctx.database.wake("inbound");
    res.status(200).json({ id: saved.id, created: saved.created });
  };
  router.post("/push/inbound/:sourceId/:provider", handler);
  // Mailgun posts the raw message only to a URL that ends with "mime".
  router.post("/push/inbound/:sourceId/:provider/mime", handler);
  return router;
}

type Posted = PostedMail | { kind: "answered"; body: Record<string, unknown> };

async function readPosted(ctx: Context, ses: SesVerifier, stored: StoredWebhook, secrets: Record<string, unknown>, body: Buffer, contentType: string | undefined): Promise<Posted> {
  switch (stored.provider) {
    case "mailgun":
      return readMailgun(body, contentType, String(secrets[SIGNING_KEY_SECRET_FIELD] ?? ""), ctx.clock.now());
    case "sendgrid":
      return readSendgrid(body, contentType);
    case "postmark":
      return readPostmark(body);
    case "ses":
      return readSes(ses, body, stored.topicArn ?? "", ctx.clock.now());
  }
}

/** The source named by the path, with its provider; 404 when there is none or it takes another provider. */
async function loadSource(ctx: Context, req: Request): Promise<{ source: SourceRecord; stored: StoredWebhook; provider: WebhookProvider; secrets: Record<string, unknown> }> {
  const id = parseId(req.params.sourceId, "Inbound webhook source");
  const provider = String(req.params.provider);
  const source = await findSource(ctx.db, id);
  const stored = source && source.kind === "inbound-webhook" ? storedWebhookOf((source.config ?? {}) as Record<string, unknown>) : null;
  if (!source || stored === null || !isWebhookProvider(provider) || stored.provider !== provider) {
    throw notFound(`Inbound webhook source ${id} for provider "${provider}"`);
  }
  const secrets = source.secrets ? ctx.secrets.openJson<Record<string, unknown>>(source.secrets) : {};
  return { source, stored, provider, secrets };
}

function refuse(ctx: Context, res: Response, source: SourceRecord, provider: WebhookProvider, refusal: Extract<PostedMail, { kind: "refused" }>): void {
  ctx.log.warn({ securityEvent: refusal.status === 401 ? "inbound_webhook_refused" : undefined, sourceId: source.id, provider, reason: refusal.reason ?? refusal.message }, "inbound webhook request refused");
  if (refusal.status === 401 && (provider === "sendgrid" || provider === "postmark")) res.set("WWW-Authenticate", 'Basic realm="mailgate"');
  res.status(refusal.status).json({ error: { code: refusal.code, message: refusal.message } });
}
