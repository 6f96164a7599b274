// What kind of mail this is, before anything is created from it: our own mail coming back, a
// bounce, a machine's answer (out of office, auto-reply, list or bulk mail), or a person writing.
// Only the last one may open a ticket; the others may at most add a note to one.
import { messageIdDomain } from "./message-id.ts";
import type { ParsedEmail } from "./parse-email.ts";

export type Classification =
  | { kind: "normal" }
  | { kind: "auto_reply"; reason: string }
  | { kind: "bounce"; reason: string }
  | { kind: "own_loop"; reason: string };

export type ClassifiableEmail = Pick<ParsedEmail, "messageId" | "messageIdGenerated" | "from" | "headers" | "contentType" | "reportType">;

/**
 * Own loop first (our mail must never make work); then the certain signs of a bounce, which
 * often carries Auto-Submitted too; then auto-reply and bulk headers; last the null Return-Path,
 * which marks a bounce only when nothing says auto-reply (RFC 3834 vacation replies use it too).
 */
/**
 * What makes mail ours: Message-IDs at `ownMessageIdDomain`, and the loop header with this
 * deployment's token (outbound/loop-token.ts). Another mailgate's mail carries its own token: a
 * reply its techs send us is mail like any other.
 */
export type OwnMail = { ownMessageIdDomain: string; ownLoopToken: string };

export function classify(email: ClassifiableEmail, opts: OwnMail): Classification {
  return ownLoop(email, opts) ?? bounce(email) ?? autoReply(email) ?? nullSender(email) ?? { kind: "normal" };
}

/** Set on every mail mailgate sends (outbound/build-message.ts), so it never makes work when it comes back. */
export const LOOP_HEADER = "X-Mailgate-Loop";

function ownLoop(email: ClassifiableEmail, { ownMessageIdDomain: ownDomain, ownLoopToken }: OwnMail): Classification | null {
  const loop = email.headers[LOOP_HEADER.toLowerCase()];
  if (loop !== undefined && loop.trim() === ownLoopToken) {
    return { kind: "own_loop", reason: `own_loop: ${LOOP_HEADER}: ${shown(loop)}` };
  }
  // A generated id is ours by construction and says nothing about who sent the mail.
  const domain = email.messageIdGenerated ? null : messageIdDomain(email.messageId);
  if (domain !== null && domain === ownDomain.trim().toLowerCase()) {
    return { kind: "own_loop", reason: `own_loop: Message-ID domain ${domain} is ours` };
  }
  return null;
}

function bounce(email: ClassifiableEmail): Classification | null {
  if (email.contentType === "multipart/report" && email.reportType === "delivery-status") {
    return { kind: "bounce", reason: "bounce: multipart/report; report-type=delivery-status" };
  }
  const failed = email.headers["x-failed-recipients"];
  if (failed !== undefined) return { kind: "bounce", reason: `bounce: X-Failed-Recipients: ${shown(failed)}` };
  const sender = email.from?.address ?? "";
  if (/^(mailer-daemon|postmaster)(@|$)/i.test(sender)) return { kind: "bounce", reason: `bounce: sent by ${sender}` };
  return null;
}

function autoReply(email: ClassifiableEmail): Classification | null {
  const h = email.headers;
  const autoSubmitted = h["auto-submitted"];
  if (autoSubmitted !== undefined && token(autoSubmitted) !== "no") {
    return { kind: "auto_reply", reason: `auto_reply: Auto-Submitted: ${shown(autoSubmitted)}` };
  }
  for (const [name, shownName] of [["x-autoreply", "X-Autoreply"], ["x-autorespond", "X-Autorespond"]] as const) {
    const value = h[name];
    if (value !== undefined && !["no", "false", "0"].includes(token(value))) {
      return { kind: "auto_reply", reason: `auto_reply: ${shownName}: ${shown(value)}` };
    }
  }
  const precedence = h["precedence"] === undefined ? "" : token(h["precedence"]);
  if (precedence === "auto_reply") return { kind: "auto_reply", reason: "auto_reply: Precedence: auto_reply" };
  if (["bulk", "junk", "list"].includes(precedence)) return { kind: "auto_reply", reason: `bulk: Precedence: ${precedence}` };
  // Exchange writes "All" on the replies it generates itself (out of office, inbox-rule replies);
  // list servers and notification systems write "OOF" and "AutoReply" (often with DR, RN, NRN)
  // on their mail. A person's Outlook writes none of them. "DR", "NDR", "RN", "NRN" alone only
  // turn off receipts and say nothing about the sender being a machine.
  const suppress = h["x-auto-response-suppress"];
  if (suppress !== undefined && suppress.split(/[\s,]+/).some((v) => ["all", "oof", "autoreply"].includes(v.toLowerCase()))) {
    return { kind: "auto_reply", reason: `auto_reply: X-Auto-Response-Suppress: ${shown(suppress)}` };
  }
  // X-MS-Exchange-Inbox-Rules-Loop is deliberately not a sign on its own: Exchange also stamps it
  // on mail forwarded or redirected by an inbox rule, which is how many customers feed a support
  // address, and those are people writing. Exchange's own auto replies carry "All" above as well.
  if (email.contentType === "multipart/report" && email.reportType === "disposition-notification") {
    return { kind: "auto_reply", reason: "auto_reply: read receipt (multipart/report; report-type=disposition-notification)" };
  }
  if (h["list-id"] !== undefined) return { kind: "auto_reply", reason: `bulk: List-Id: ${shown(h["list-id"])}` };
  if (h["list-unsubscribe"] !== undefined) return { kind: "auto_reply", reason: "bulk: List-Unsubscribe present" };
  return null;
}

function nullSender(email: ClassifiableEmail): Classification | null {
  const returnPath = email.headers["return-path"];
  if (returnPath !== undefined && /^<\s*>$/.test(returnPath.trim())) return { kind: "bounce", reason: "bounce: Return-Path: <> (null sender)" };
  return null;
}

/** The first word of a header value, lower case: "auto-replied; owner-email=..." → "auto-replied". */
function token(value: string): string {
  return (value.trim().split(/[\s;]+/)[0] ?? "").toLowerCase();
}

function shown(value: string): string {
  const flat = value.replace(/\s+/g, " ").trim();
  return flat.length > 100 ? `${flat.slice(0, 100)}…` : flat;
}
