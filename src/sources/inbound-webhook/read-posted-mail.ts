// What each mail service's POST carries, as a value: the raw message and the key it is stored
// under, or why the request is refused. Pure: the route reads the body, checks nothing here
// against the database, and stores what comes back.
import { createHash } from "node:crypto";
import { parseForm } from "./parse-form.ts";
import { verifyMailgunSignature } from "./verify-mailgun.ts";

export type PostedMail =
  /** `providerMessageId`: the inbound row's key; `oneTimeToken`: that key is a token a request may use once. */
  | { kind: "mail"; raw: Buffer; providerMessageId: string; oneTimeToken: boolean }
  | { kind: "refused"; status: 400 | 401; code: string; message: string; reason?: string };

const sha256Key = (raw: Buffer) => "sha256:" + createHash("sha256").update(raw).digest("hex");
const malformed = (message: string): PostedMail => ({ kind: "refused", status: 400, code: "invalid_body", message });
const forged = (message: string, reason: string): PostedMail => ({ kind: "refused", status: 401, code: "unauthorized", message, reason });

/** Mailgun's forward() to a URL ending in "mime": the signature fields and `body-mime`. */
export function readMailgun(body: Buffer, contentType: string | undefined, signingKey: string, now: Date): PostedMail {
  const form = parseForm(body, contentType);
  if (!form.ok) return malformed(`This is not a Mailgun route POST: ${form.reason}.`);
  const text = (name: string) => form.fields.get(name)?.toString("utf8") ?? "";
  const verdict = verifyMailgunSignature({ timestamp: text("timestamp"), token: text("token"), signature: text("signature") }, signingKey, now);
  if (!verdict.ok) return forged("The Mailgun signature is missing, wrong or stale: check the source's signingKey (Mailgun: Sending → Webhooks → HTTP webhook signing key).", verdict.reason);
  const raw = form.fields.get("body-mime");
  if (raw === undefined || raw.length === 0) {
    return malformed("No body-mime field: the route's forward() URL must end with \"mime\" (…/mailgun/mime) for Mailgun to post the raw message.");
  }
  return { kind: "mail", raw, providerMessageId: `mailgun:${text("token")}`, oneTimeToken: true };
}

/** SendGrid Inbound Parse with "POST the raw, full MIME message": the `email` field. */
export function readSendgrid(body: Buffer, contentType: string | undefined): PostedMail {
  const form = parseForm(body, contentType);
  if (!form.ok) return malformed(`This is not a SendGrid Inbound Parse POST: ${form.reason}.`);
  const raw = form.fields.get("email");
  if (raw === undefined || raw.length === 0) {
    return malformed("No email field: tick \"POST the raw, full MIME message\" in SendGrid's Inbound Parse settings for this host.");
  }
  return { kind: "mail", raw, providerMessageId: sha256Key(raw), oneTimeToken: false };
}

/** Postmark's inbound webhook with "Include raw email content in JSON payload": `RawEmail`. */
export function readPostmark(body: Buffer): PostedMail {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString("utf8"));
  } catch {
    return malformed("This is not a Postmark inbound webhook: the body is not JSON.");
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return malformed("This is not a Postmark inbound webhook: expected a JSON object.");
  const rawEmail = (parsed as { RawEmail?: unknown }).RawEmail;
  if (typeof rawEmail !== "string" || rawEmail.length === 0) {
    return malformed("No RawEmail in the JSON: switch on \"Include raw email content in JSON payload\" in the Postmark server's inbound stream settings.");
  }
  const raw = Buffer.from(rawEmail, "utf8");
  return { kind: "mail", raw, providerMessageId: sha256Key(raw), oneTimeToken: false };
}
