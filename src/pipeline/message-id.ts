// Message-IDs are the keys of dedupe and threading, so every id that enters the system goes
// through one normal form: no angle brackets, no comments, no whitespace, lower case.
//
// Lower case although RFC 5322 says the local part is case-sensitive: providers and forwarders
// have been seen to change the case of ids (Exchange upper-cases some), and two distinct mails
// whose ids differ only by case do not occur in practice; a missed duplicate does.
import { createHash } from "node:crypto";
import { headerBlockOf, parseHeaderFields } from "./raw-headers.ts";

/** Longer than a header line may be (RFC 5322): not an id but garbage, and too long for an index. */
const MAX_ID_LENGTH = 998;

export const GENERATED_ID_DOMAIN = "generated.mailgate";

/**
 * The normal form of one Message-ID, or null when nothing id-like is left. An id without "@" is
 * accepted (old mailers and some list software write `<1234.5678>`): it is still a unique token,
 * and refusing it would give that mail a generated id and break threading on it.
 */
export function normaliseMessageId(value: string): string | null {
  return messageIdAsWritten(value)?.toLowerCase() ?? null;
}

/**
 * One Message-ID without its brackets, comments and folding, its case kept: what a reply's
 * In-Reply-To and References must repeat for the customer's mail client to thread it (clients
 * such as Thunderbird compare ids exactly). Null when nothing id-like is left.
 */
export function messageIdAsWritten(value: string): string | null {
  let id = stripComments(value);
  const open = id.indexOf("<");
  if (open !== -1) {
    const close = id.indexOf(">", open + 1);
    // Inside brackets whitespace can only come from folding a long id, so it is dropped.
    id = id.slice(open + 1, close === -1 ? undefined : close).replace(/\s+/g, "");
  }
  id = id.replace(/[<>]/g, "").trim();
  if (id === "" || id.length > MAX_ID_LENGTH || /[\s\p{Cc}]/u.test(id)) return null;
  return id;
}

/**
 * Every id of a References or In-Reply-To header, in order, normalised, each once. When the header
 * has bracketed ids only those count: legacy In-Reply-To values carry prose around the id
 * (`Your message of Mon, 1 Jan <id@host>`). Without brackets, only "@"-bearing words are ids.
 */
export function parseMessageIdList(header: string | string[] | undefined): string[] {
  if (header === undefined) return [];
  const text = stripComments(Array.isArray(header) ? header.join(" ") : header);
  const tokens = text.includes("<")
    ? [...text.matchAll(/<([^<>]*)>?/g)].map((m) => m[1] ?? "")
    : text.split(/[\s,]+/).filter((word) => word.includes("@"));
  const ids = new Set<string>();
  for (const token of tokens) {
    const id = normaliseMessageId(token);
    if (id !== null) ids.add(id);
  }
  return [...ids];
}

// Each hop (MTA, spam filter, mailbox provider, IMAP server) adds these on its way in, so they
// differ between two deliveries of the same mail; what the sender wrote stays and is hashed.
const TRACE_HEADERS = new Set([
  "received",
  "x-received",
  "return-path",
  "delivered-to",
  "x-original-to",
  "envelope-to",
  "x-envelope-to",
  "x-envelope-from",
  "authentication-results",
  "received-spf",
  "dkim-signature",
  "x-google-dkim-signature",
  "content-length",
  "lines",
  "status",
  "x-status",
  "x-keywords",
  "x-uid",
  "x-mozilla-status",
  "x-mozilla-status2",
]);
const TRACE_HEADER_PREFIXES = [
  "arc-",
  "x-gm-",
  "x-google-",
  "x-spam",
  "x-virus",
  "x-ms-exchange-organization-",
  "x-forefront-",
  "x-microsoft-antispam",
];

function isTraceHeader(name: string): boolean {
  return TRACE_HEADERS.has(name) || TRACE_HEADER_PREFIXES.some((prefix) => name.startsWith(prefix));
}

/**
 * A stable id for a mail that has none: the same mail re-delivered through another mailbox (with
 * other trace headers, other line endings, other folding) gets the same id, so dedupe still works.
 * Takes the header block or the whole message. When no header the sender wrote is left (garbage,
 * a message with no headers), the whole input is hashed instead: hashing nothing would give every
 * such message the same id and make each one after the first a "duplicate".
 */
export function generatedMessageId(rawHeaderBlock: Buffer): string {
  const fields = parseHeaderFields(headerBlockOf(rawHeaderBlock)).filter((field) => !isTraceHeader(field.name));
  const hash = createHash("sha256");
  if (fields.length === 0) hash.update("raw\n").update(rawHeaderBlock);
  for (const field of fields) hash.update(`${field.name}:${field.value.replace(/\s+/g, " ")}\n`, "latin1");
  return `${hash.digest("hex")}@${GENERATED_ID_DOMAIN}`;
}

/**
 * The Message-ID the sender wrote, read from the header block alone (cheap, at intake): null when
 * there is none. Parsing later reads the same field and finds the same normal form.
 */
export function headerMessageId(raw: Buffer): string | null {
  // A header block is a few KB; the cap keeps a huge message with no empty line cheap.
  const field = parseHeaderFields(headerBlockOf(raw.subarray(0, 256 * 1024))).find((f) => f.name === "message-id");
  return field ? normaliseMessageId(field.value) : null;
}

/** The part after the last "@", lower case; null for an id without one. */
export function messageIdDomain(id: string): string | null {
  const normal = normaliseMessageId(id);
  if (normal === null) return null;
  const at = normal.lastIndexOf("@");
  const domain = at === -1 ? "" : normal.slice(at + 1);
  return domain === "" ? null : domain;
}

/** Drops RFC 5322 comments, nested ones too; an unterminated comment runs to the end. */
function stripComments(value: string): string {
  if (!value.includes("(") && !value.includes(")")) return value;
  let out = "";
  let depth = 0;
  for (const ch of value) {
    if (ch === "(") depth++;
    else if (ch === ")") depth = Math.max(0, depth - 1);
    else if (depth === 0) out += ch;
  }
  return out;
}
