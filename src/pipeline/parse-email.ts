// Raw MIME → the plain values every later step works with. One simpleParser call does the MIME
// work (it dominates the cost of the whole pipeline, so nothing is parsed twice); the few things
// mailparser trims, guesses or hides (Message-IDs, the Date, the raw value of loop and auto-reply
// headers, ids inside bounces) are read from the raw header lines it hands back.
//
// Hostile input, measured with mailparser 3.14 (see tests/unit/pipeline/parse-email.hostile.test.ts):
// 998 nested multiparts parse in ~0.2 s, and more than 1000 MIME parts (nested or not) are refused
// by mailparser itself within the same time, so no depth pre-scan of our own is needed; a header
// block over 1 MiB is refused too. A 40 MB body takes ~1-3 s. Garbage bytes parse as a message
// with no headers. Everything else that cannot be decoded (unknown charsets, broken base64 or
// quoted-printable) degrades to best-effort text instead of failing.
import { parseAddressHeader, simpleParser, type AddressObject, type Attachment, type EmailAddress, type ParsedMail, type SimpleParserOptions } from "mailparser";
import { createHash } from "node:crypto";
import { fallbackAttachmentFilename, safeAttachmentFilename } from "./attachment-filename.ts";
import { decodeHeaderText, decodeRawText, type Fallback } from "./decode-header-text.ts";
import { generatedMessageId, messageIdAsWritten, parseMessageIdList } from "./message-id.ts";
import { headerBlockOf, parseHeaderFields } from "./raw-headers.ts";
import { uudecode } from "./uudecode.ts";

export type Address = { address: string; name: string };

export type ParsedAttachment = {
  /** Safe to show, to put in a header and to save as (safeAttachmentFilename). */
  filename: string;
  /** The sender's name, decoded but otherwise as sent (NUL aside); null when the part had none. */
  originalFilename: string | null;
  contentType: string;
  size: number;
  content: Buffer;
  sha256: string;
  contentId: string | null;
  inline: boolean;
};

export type ParsedEmail = {
  messageId: string;
  messageIdGenerated: boolean;
  /** The Message-ID with its case as the sender wrote it, when that differs from `messageId` (the normal form). */
  messageIdAsWritten: string | null;
  inReplyTo: string[];
  references: string[];
  subject: string;
  from: Address | null;
  to: Address[];
  cc: Address[];
  replyTo: Address[];
  date: Date | null;
  text: string | null;
  html: string | null;
  attachments: ParsedAttachment[];
  headers: Record<string, string>;
  contentType: string;
  reportType: string | null;
  embeddedMessageIds: string[];
};

/** The headers classify and the loop checks read, kept with their raw (unfolded) value. */
export const KEPT_HEADERS = [
  "auto-submitted",
  "x-autoreply",
  "x-autorespond",
  "precedence",
  "x-auto-response-suppress",
  "x-ms-exchange-inbox-rules-loop",
  "list-id",
  "list-unsubscribe",
  "return-path",
  "x-failed-recipients",
  "x-mailgate-loop",
  "content-type",
] as const;

const PARSER_OPTIONS: SimpleParserOptions = {
  // The HTML is stored with its cid: links and the images as attachments; inlining them as data:
  // URLs would copy every image into the HTML and cost a base64 pass each.
  keepCidLinks: true,
  skipImageLinks: true,
  // textAsHtml is never used.
  skipTextToHtml: true,
  skipTextLinks: true,
  // A bounce's machine-readable status is an attachment of the note (as other helpdesks keep it),
  // not noise appended to the human-readable explanation.
  keepDeliveryStatus: true,
  // Hashed while the attachment streams through the parser, so its bytes are not read again.
  checksumAlgo: "sha256",
};

const EMBEDDED_MESSAGE_TYPES = new Set(["message/rfc822", "message/global", "text/rfc822-headers", "message/global-headers"]);

export async function parseEmail(raw: Buffer): Promise<ParsedEmail> {
  let mail: ParsedMail;
  try {
    mail = await simpleParser(raw, PARSER_OPTIONS);
  } catch (err) {
    throw new Error(explainParserFailure(err), { cause: err });
  }

  const rawHeaders = rawHeaderValues(mail);
  const writtenId = messageIdAsWritten(unfold(rawHeaders.get("message-id")?.[0] ?? ""));
  const ownId = writtenId?.toLowerCase() ?? null;
  const messageId = ownId ?? generatedMessageId(raw);
  const contentTypeHeader = structuredValue(mail.headers.get("content-type"));
  const contentType = contentTypeHeader?.value.toLowerCase() || "text/plain";
  const rawSubject = rawHeaders.get("subject")?.[0];
  const text = typeof mail.text === "string" ? withoutNul(mail.text) : null;
  const charset = messageCharset(raw, contentTypeHeader?.params.charset ?? null);
  const from = withSenderName(senderOf(mail, rawHeaders), rawHeaders.get("from")?.[0], charset);
  const read = mail.attachments.map((att, i) => readAttachment(att, i, raw, charset));

  return {
    messageId,
    messageIdGenerated: ownId === null,
    messageIdAsWritten: writtenId !== ownId ? writtenId : null,
    inReplyTo: parseMessageIdList(rawHeaders.get("in-reply-to")?.map(unfold)),
    references: parseMessageIdList(rawHeaders.get("references")?.map(unfold)),
    subject: rawSubject === undefined ? "" : withoutNul(decodeHeaderText(rawSubject, charset)),
    from,
    to: addressesOf(mail.to),
    cc: addressesOf(mail.cc),
    replyTo: addressesOf(mail.replyTo),
    date: parseDate(rawHeaders.get("date")?.[0]),
    text,
    html: typeof mail.html === "string" ? withoutNul(mail.html) : null,
    attachments: read.map((r) => r.attachment),
    headers: keptHeaders(rawHeaders),
    contentType,
    reportType: contentType === "multipart/report" ? (contentTypeHeader?.params["report-type"]?.toLowerCase() ?? null) : null,
    embeddedMessageIds: embeddedMessageIds({ raw, contentType, from, text, messageId, fromAttachments: read.flatMap((r) => r.embeddedIds) }),
  };
}

function explainParserFailure(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  if (/child nodes/i.test(message)) {
    return "it has more than 1000 MIME parts (nested or side by side), the most the MIME parser accepts";
  }
  if (/header size/i.test(message)) {
    return "a header block is larger than 1 MiB, the most the MIME parser accepts (often a list of many thousands of recipients)";
  }
  return `the MIME parser failed: ${message}`;
}

/**
 * Header name → values in order, as binary strings straight from the message (folds and 8-bit
 * bytes intact); mailparser's own view trims, decodes and reinterprets them.
 */
function rawHeaderValues(mail: ParsedMail): Map<string, string[]> {
  const values = new Map<string, string[]>();
  for (const { key, line } of mail.headerLines ?? []) {
    const value = line.slice(line.indexOf(":") + 1);
    const list = values.get(key);
    if (list) list.push(value);
    else values.set(key, [value]);
  }
  return values;
}

function keptHeaders(rawHeaders: Map<string, string[]>): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const name of KEPT_HEADERS) {
    // The first occurrence is the one the last hop wrote (Return-Path) or the sender meant.
    const value = rawHeaders.get(name)?.[0];
    if (value !== undefined) kept[name] = withoutNul(unfold(value));
  }
  return kept;
}

function structuredValue(header: unknown): { value: string; params: Record<string, string> } | null {
  if (typeof header !== "object" || header === null || !("value" in header) || typeof header.value !== "string") return null;
  const params = "params" in header && typeof header.params === "object" && header.params !== null ? header.params : {};
  return { value: header.value, params: params as Record<string, string> };
}

/** Groups flatten to their members; entries without an address (a bare name, an empty group) are dropped. */
function addressesOf(header: AddressObject | AddressObject[] | undefined): Address[] {
  const objects = header === undefined ? [] : Array.isArray(header) ? header : [header];
  const out: Address[] = [];
  const visit = (entries: EmailAddress[]) => {
    for (const entry of entries) {
      if (entry.group) visit(entry.group);
      const address = withoutNul(entry.address ?? "").trim().toLowerCase();
      if (address !== "") out.push({ address, name: withoutNul(entry.name ?? "").trim() });
    }
  };
  for (const object of objects) visit(object.value);
  return out;
}

/**
 * The sender: the first From with an address (a second From header is sometimes the real one),
 * then Sender, then Reply-To (spam and broken mailers omit From or write `From: <>`), and last a
 * From that names a local mailbox only, as Postfix writes `From: MAILER-DAEMON (Mail Delivery
 * System)`, so that bounces still show who sent them.
 */
function senderOf(mail: ParsedMail, rawHeaders: Map<string, string[]>): Address | null {
  const fromHeaders = (rawHeaders.get("from") ?? []).slice(1).map((value) => parseAddressHeader(utf8(value)));
  const candidates = [mail.from, ...fromHeaders, mail.headers.get("sender") as AddressObject | undefined, mail.replyTo];
  for (const candidate of candidates) {
    const first = addressesOf(candidate)[0];
    if (first) return first;
  }
  const localOnly = /^\s*([a-z0-9._+-]+)\s*(\(.*\))?\s*$/i.exec(unfold(rawHeaders.get("from")?.[0] ?? ""));
  return localOnly?.[1] ? { address: localOnly[1].toLowerCase(), name: "" } : null;
}

/**
 * mailparser reads a display name sent as raw 8-bit bytes as UTF-8 and an ISO-2022-JP word that
 * holds Shift_JIS as 7-bit: a GB2312 name came out as "������", a Japanese one as "c[". Such a
 * name, in a From of the usual `name <address>` form, is read again from the raw header as the
 * subject is (and becomes the contact's name).
 */
function withSenderName(sender: Address | null, rawFrom: string | undefined, fallbackCharset: Fallback): Address | null {
  if (!sender || rawFrom === undefined || !/[\u0080-\u00ff]|=\?iso-2022-jp\?/i.test(rawFrom)) return sender;
  const parts = /^\s*(.*?)\s*<([^<>]*)>\s*$/s.exec(rawFrom.replace(/\r?\n(?=[ \t])/g, ""));
  if (!parts || parts[2]!.trim().toLowerCase() !== sender.address) return sender;
  const quoted = /^"(.*)"$/s.exec(parts[1]!);
  const name = quoted ? quoted[1]!.replace(/\\(.)/g, "$1") : parts[1]!;
  return { ...sender, name: withoutNul(decodeHeaderText(name, fallbackCharset)).trim() };
}

function unfold(value: string): string {
  return value.replace(/\r?\n[ \t]+/g, " ").trim();
}

function utf8(binary: string): string {
  return Buffer.from(binary, "latin1").toString("utf8");
}

// mailparser turns an unreadable Date into "now", which would hide the problem; null says it.
function parseDate(value: string | undefined): Date | null {
  if (value === undefined) return null;
  const date = new Date(unfold(value));
  return Number.isNaN(date.getTime()) ? null : date;
}

type ReadAttachment = { attachment: ParsedAttachment; embeddedIds: string[] };

/**
 * The charset raw 8-bit header text is read in when it is not UTF-8: the message's own, else the
 * first one a part declares (a multipart message often names it on its parts only). UTF-8 and
 * ASCII are passed over: the text has already failed as UTF-8. Looked for only when such text is
 * there, in the first 256 KiB.
 */
function messageCharset(raw: Buffer, declared: string | null): () => string | null {
  let found: string | null | undefined;
  return () => {
    if (found === undefined) {
      found = useful(declared);
      const head = found ? "" : raw.subarray(0, 256 * 1024).toString("latin1");
      for (const header of head.matchAll(/^content-type:[^\r\n]*(?:\r?\n[ \t][^\r\n]*)*/gim)) {
        found = useful(/charset\s*=\s*"?([^";\s]+)/i.exec(header[0])?.[1]);
        if (found) break;
      }
    }
    return found;
  };
}

/**
 * A file name sent as raw 8-bit bytes (no RFC 2047 or 2231 encoding) in a charset that is not
 * UTF-8: mailparser hands them over one character per byte ("¼¨Ð§¹ÜÀí.xls" for GB2312's
 * "绩效管理.xls"). When those bytes stand in a name parameter of the message as they are, they are
 * read in the part's charset, else the message's. A name mailparser decoded from encoded words
 * never appears there as such, and is kept.
 */
function rawFilenameDecoded(att: Attachment, raw: Buffer, fallbackCharset: Fallback): string | undefined {
  const name = att.filename;
  if (!name || !/[\u0080-\u00ff]/.test(name) || /[\u0100-\uffff]/.test(name)) return name;
  const bytes = Buffer.from(name, "latin1");
  const at = raw.indexOf(bytes);
  if (at < 0 || !/name\*?\s*=\s*"?$/i.test(raw.subarray(Math.max(0, at - 16), at).toString("latin1"))) return name;
  const partCharset = structuredValue(att.headers.get("content-type"))?.params.charset ?? null;
  return decodeRawText(bytes, useful(partCharset) ?? fallbackCharset);
}

/** A declared charset worth falling back to for bytes that already failed as UTF-8: not UTF-8 or ASCII. */
function useful(charset: string | null | undefined): string | null {
  return charset && !/^(utf-?8|us-ascii|ascii)$/i.test(charset) ? charset : null;
}

function readAttachment(att: Attachment, index: number, raw: Buffer, fallbackCharset: Fallback): ReadAttachment {
  const contentType = (att.contentType || "application/octet-stream").toLowerCase();
  const contentId = att.cid ? withoutNul(att.cid) : null;
  // An attached message or header block names the mail it carries: its Message-ID threads a
  // bounce to the original, its Subject names the file.
  const embedded = EMBEDDED_MESSAGE_TYPES.has(contentType) ? parseHeaderFields(headerBlockOf(att.content)) : [];
  const embeddedSubject = embedded.find((field) => field.name === "subject")?.value;
  const description = att.headers.get("content-description");
  const content = /uuencode/i.test(String(att.headers.get("content-transfer-encoding") ?? "")) ? uudecode(att.content) : att.content;
  const given = rawFilenameDecoded(att, raw, fallbackCharset) || null;
  const named =
    given?.trim() ||
    fallbackAttachmentFilename({
      contentType,
      position: index + 1,
      description: typeof description === "string" ? withoutNul(description) : null,
      contentId,
      embeddedSubject: embeddedSubject === undefined ? null : withoutNul(decodeHeaderText(embeddedSubject, fallbackCharset)),
    });
  return {
    attachment: {
      filename: safeAttachmentFilename(named, contentType),
      originalFilename: given === null ? null : withoutNul(given),
      contentType,
      size: content.length,
      content,
      sha256: content === att.content && att.checksum ? att.checksum : createHash("sha256").update(content).digest("hex"),
      contentId,
      inline: att.contentDisposition === "inline" || (att.related === true && contentId !== null),
    },
    embeddedIds: embedded.filter((field) => field.name === "message-id").flatMap((field) => parseMessageIdList(field.value)),
  };
}

/**
 * The Message-IDs of the mail a bounce reports on, so it can be threaded to it: from attached
 * messages and header parts, and for reports and MAILER-DAEMON mail also from header lines in the
 * report itself (an embedded message sent inline, or a qmail bounce quoting the headers in text).
 */
function embeddedMessageIds(mail: {
  raw: Buffer;
  contentType: string;
  from: Address | null;
  text: string | null;
  fromAttachments: string[];
  messageId: string;
}): string[] {
  const found = [...mail.fromAttachments];
  if (mail.contentType === "multipart/report") {
    found.push(...messageIdLines(mail.raw.subarray(headerBlockOf(mail.raw).length).toString("latin1")));
  } else if (mail.text !== null && /^(mailer-daemon|postmaster)(@|$)/i.test(mail.from?.address ?? "")) {
    found.push(...messageIdLines(mail.text));
  }
  return [...new Set(found)].filter((id) => id !== mail.messageId);
}

function messageIdLines(text: string): string[] {
  return [...text.matchAll(/^message-id:[ \t]*(.*(?:\r?\n[ \t].*)*)/gim)].flatMap((m) => parseMessageIdList(m[1] ?? ""));
}

// Postgres text cannot hold NUL, and no mail means one: dropping it keeps a message storable.
function withoutNul(value: string): string {
  return value.includes("\0") ? value.replaceAll("\0", "") : value;
}
