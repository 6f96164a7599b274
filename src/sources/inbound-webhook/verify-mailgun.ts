// Mailgun signs each POST with the domain's HTTP webhook signing key: `signature` is the hex
// HMAC-SHA256 of `timestamp` + `token`. The signature covers neither the body nor the URL, so a
// captured request could carry another body: the timestamp must be fresh and each token is
// accepted once (the caller keeps the tokens it has seen).
import { createHmac, timingSafeEqual } from "node:crypto";

/** Older than this, a request is refused as stale. */
export const MAILGUN_MAX_AGE_S = 5 * 60;
/** A timestamp this far ahead of our clock is still taken (clocks differ a little). */
export const MAILGUN_MAX_SKEW_S = 60;

export type MailgunSignature = { timestamp: string; token: string; signature: string };
export type Verdict = { ok: true } | { ok: false; reason: string };

export function verifyMailgunSignature(fields: MailgunSignature, signingKey: string, now: Date): Verdict {
  if (!/^\d{1,12}$/.test(fields.timestamp)) return { ok: false, reason: "timestamp is not a number of seconds" };
  if (!/^[0-9a-fA-F]{64}$/.test(fields.signature)) return { ok: false, reason: "signature is not a hex HMAC-SHA256" };
  if (fields.token.length === 0 || fields.token.length > 256) return { ok: false, reason: "token is missing or too long" };
  const expected = createHmac("sha256", signingKey).update(fields.timestamp + fields.token).digest();
  if (!timingSafeEqual(expected, Buffer.from(fields.signature, "hex"))) return { ok: false, reason: "signature does not match the signing key" };
  const age = now.getTime() / 1000 - Number(fields.timestamp);
  if (age > MAILGUN_MAX_AGE_S) return { ok: false, reason: `timestamp is ${Math.round(age)} s old (at most ${MAILGUN_MAX_AGE_S} s)` };
  if (age < -MAILGUN_MAX_SKEW_S) return { ok: false, reason: `timestamp is ${Math.round(-age)} s in the future` };
  return { ok: true };
}
