// One webhook attempt in three steps, as Svix's worker does them: prepare (the URL's verdict and
// the signature), call (the HTTP request), handle (what the answer means for this delivery).
import type { Context } from "../context.ts";
import type { AttemptResult, ClaimedDelivery } from "../db/webhook-deliveries.ts";
import { classifyResponse, nextAttempt, type Verdict } from "./retry-policy.ts";
import type { SendResult, Sender } from "./send-webhook.ts";
import { signingKey, signWebhook } from "./sign-webhook.ts";
import { checkWebhookUrl } from "./url-safety.ts";

/** What an attempt leaves for the recorder: the delivery, the row to write, and the verdict. */
export type Outcome = { delivery: ClaimedDelivery; result: AttemptResult; verdict: Verdict };

export type Attempt = (d: ClaimedDelivery) => Promise<Outcome>;

/** A webhook URL checked at send time: parsed, or refused with the reason. */
type UrlVerdict = { url: URL } | { problem: string };

/** A prepared attempt: the request to make, or the reason it is not made. */
type Prepared = { url: URL; headers: Record<string, string>; body: string } | { refused: string };

const URL_CHECK_CACHE_MS = 30_000;

export function createAttempt(ctx: Context, sender: Sender): Attempt {
  const cfg = ctx.config.webhook;
  // Each secret is opened and decoded once: endpoint id → the sealed bytes and their signing key.
  const keys = new Map<string, { sealed: Buffer; key: Buffer }>();
  const urlChecks = new Map<string, { at: number } & UrlVerdict>();

  const keyOf = (slot: string, sealed: Buffer) => {
    const cached = keys.get(slot);
    if (cached?.sealed.equals(sealed)) return cached.key;
    const key = signingKey(ctx.secrets.open(sealed));
    keys.set(slot, { sealed, key });
    return key;
  };

  // Checked again at send time, not only at creation: the URL may predate a stricter setting, and
  // this refuses early with the message the API gives. What stops DNS rebinding is the check of
  // each connection's address in the sender, since undici resolves the name again to connect.
  const checkUrl = async (url: string): Promise<UrlVerdict> => {
    const cached = urlChecks.get(url);
    if (cached && Date.now() - cached.at < URL_CHECK_CACHE_MS) return cached;
    const check = await checkWebhookUrl(url, { allowHttp: cfg.allowHttp, allowPrivateNetworks: cfg.allowPrivateNetworks, lookup: ctx.resolve });
    const entry = { at: Date.now(), ...(check.ok ? { url: new URL(url) } : { problem: check.message }) };
    urlChecks.set(url, entry);
    return entry;
  };

  const prepare = async (d: ClaimedDelivery, attemptedAt: Date): Promise<Prepared> => {
    const target = await checkUrl(d.url);
    if ("problem" in target) return { refused: target.problem };
    const secrets = [keyOf(d.endpointId, d.secret)];
    // During a rotation both secrets sign, so a receiver that has not switched yet still verifies.
    if (d.previousSecret && d.previousSecretExpiresAt && d.previousSecretExpiresAt > attemptedAt) secrets.push(keyOf(`${d.endpointId} previous`, d.previousSecret));
    return { url: target.url, headers: signWebhook({ id: d.eventId, timestamp: attemptedAt, body: d.body, secrets }), body: d.body };
  };

  const call = (prepared: Prepared): Promise<SendResult> =>
    "refused" in prepared
      ? Promise.resolve({ statusCode: null, retryAfter: null, responseBody: null, error: `refused: ${prepared.refused}`, durationMs: 0 })
      : sender.send(prepared.url, prepared.headers, prepared.body);

  const handle = (d: ClaimedDelivery, attemptedAt: Date, sent: SendResult): Outcome => {
    const verdict = classifyResponse(sent.statusCode, sent.error ?? undefined);
    const base = { deliveryId: d.id, leasedUntil: d.leasedUntil, attemptedAt, statusCode: sent.statusCode, durationMs: sent.durationMs, responseBody: sent.responseBody, error: sent.error };
    if (verdict === "success") return { delivery: d, verdict, result: { ...base, status: "succeeded", nextAttemptAt: null } };
    // 410: the endpoint is disabled and this delivery waits, pending, for it to be re-enabled.
    if (verdict === "disable_endpoint") return { delivery: d, verdict, result: { ...base, status: "pending", nextAttemptAt: attemptedAt } };
    const next = nextAttempt({
      attempts: d.attempts + 1,
      scheduleSeconds: cfg.retryScheduleSeconds,
      now: ctx.clock.now(),
      retryAfter: sent.statusCode === 429 || sent.statusCode === 503 ? sent.retryAfter : null,
      random: Math.random,
    });
    return next.kind === "retry"
      ? { delivery: d, verdict, result: { ...base, status: "pending", nextAttemptAt: next.at } }
      : { delivery: d, verdict, result: { ...base, status: "exhausted", nextAttemptAt: null } };
  };

  return async (d) => {
    const attemptedAt = ctx.clock.now();
    return handle(d, attemptedAt, await call(await prepare(d, attemptedAt)));
  };
}

/** A bug in an attempt still leaves a row: the delivery is tried again in a minute. */
export function crashedOutcome(d: ClaimedDelivery, err: unknown, now: Date): Outcome {
  return {
    delivery: d,
    verdict: "retry",
    result: { deliveryId: d.id, leasedUntil: d.leasedUntil, attemptedAt: now, statusCode: null, durationMs: 0, responseBody: null, error: String(err), status: "pending", nextAttemptAt: new Date(now.getTime() + 60_000) },
  };
}
