// Builds raw RFC 5322 / MIME bytes by hand, so a test shows only what matters to it:
// buildEmail({ from: "john@acme.com", subject: "Re: [Ticket #12] x", inReplyTo: "<a@b>" }).
//
// The output is strict: CRLF line endings, lines under 998 octets, non-ASCII headers as RFC 2047
// encoded words, non-ASCII file names in RFC 2231 form, bodies 7bit when they are short-lined
// ASCII and base64 otherwise, attachments base64 (attached messages 8bit, as RFC 2046 requires).
import { randomBytes, randomUUID } from "node:crypto";

export type BuildAttachment = {
  filename: string;
  contentType: string;
  content: Buffer | string;
  /** Content-Disposition: inline instead of attachment (an embedded image). */
  inline?: boolean;
  /** Without angle brackets; written as Content-ID: <contentId>. */
  contentId?: string;
};

export type BuildEmailOptions = {
  /** "john@acme.com" or "John Smith <john@acme.com>". Default "john@acme.com". */
  from?: string;
  /** Default "support@mailgate.test"; an empty list leaves To out. */
  to?: string | string[];
  cc?: string[];
  /** Default "Printer is broken". */
  subject?: string;
  /** With or without angle brackets. Default a random id at the sender's domain; null leaves it out. */
  messageId?: string | null;
  inReplyTo?: string;
  references?: string[];
  /** Default a short plain text body, unless only html is given. */
  text?: string;
  html?: string;
  /** Extra headers, written as given after the standard ones; a name that is a standard header replaces it. */
  headers?: Record<string, string>;
  attachments?: BuildAttachment[];
  /** Makes the top level multipart/report with this report-type (a bounce: "delivery-status"). */
  reportType?: string;
  /** Default now. */
  date?: Date;
};

const CRLF = "\r\n";
const STRUCTURAL_HEADERS = new Set(["content-type", "content-transfer-encoding", "mime-version"]);

type Part = { headers: string[]; body: Buffer[] };

export function buildEmail(opts: BuildEmailOptions = {}): Buffer {
  const from = opts.from ?? "john@acme.com";
  const to = opts.to === undefined ? ["support@mailgate.test"] : typeof opts.to === "string" ? [opts.to] : opts.to;
  const messageId = opts.messageId === undefined ? `<${randomUUID()}@${domainOf(from)}>` : opts.messageId;

  const headers: [string, string][] = [["From", formatAddressList([from])]];
  if (to.length > 0) headers.push(["To", formatAddressList(to)]);
  if (opts.cc && opts.cc.length > 0) headers.push(["Cc", formatAddressList(opts.cc)]);
  headers.push(["Subject", encodeHeaderText(opts.subject ?? "Printer is broken")]);
  headers.push(["Date", formatDate(opts.date ?? new Date())]);
  if (messageId !== null) headers.push(["Message-ID", bracketed(messageId)]);
  if (opts.inReplyTo !== undefined) headers.push(["In-Reply-To", bracketed(opts.inReplyTo)]);
  if (opts.references && opts.references.length > 0) headers.push(["References", opts.references.map(bracketed).join(`${CRLF} `)]);
  headers.push(["MIME-Version", "1.0"]);
  for (const [name, value] of Object.entries(opts.headers ?? {})) {
    if (STRUCTURAL_HEADERS.has(name.toLowerCase())) {
      throw new Error(`buildEmail: ${name} is built from the body; use text, html, attachments or reportType instead`);
    }
    const folded = value.replace(/\r?\n(?![ \t])/g, `${CRLF} `).replace(/\r?\n/g, CRLF);
    const existing = headers.find(([n]) => n.toLowerCase() === name.toLowerCase());
    if (existing) existing[1] = folded;
    else headers.push([name, folded]);
  }

  const root = bodyPart(opts);
  const chunks: Buffer[] = [Buffer.from(headers.map(([name, value]) => `${name}: ${value}${CRLF}`).join(""), "utf8")];
  chunks.push(Buffer.from(root.headers.map((h) => `${h}${CRLF}`).join("") + CRLF, "utf8"), ...root.body);
  return Buffer.concat(chunks);
}

function bodyPart(opts: BuildEmailOptions): Part {
  const text = opts.text ?? (opts.html === undefined ? "Hello,\r\n\r\nthe printer on the second floor is broken.\r\n\r\nJohn\r\n" : undefined);
  const textPart = text === undefined ? null : textualPart("text/plain", text);
  const htmlPart = opts.html === undefined ? null : textualPart("text/html", opts.html);
  const content = textPart && htmlPart ? multipart("alternative", [textPart, htmlPart]) : (textPart ?? htmlPart)!;
  const attachments = (opts.attachments ?? []).map(attachmentPart);
  if (opts.reportType !== undefined) return multipart(`report; report-type=${opts.reportType}`, [content, ...attachments]);
  return attachments.length > 0 ? multipart("mixed", [content, ...attachments]) : content;
}

function textualPart(type: string, content: string): Part {
  const normalised = content.replace(/\r?\n/g, CRLF);
  // eslint-disable-next-line no-control-regex
  const sevenBit = /^[\x00-\x7f]*$/.test(normalised) && !normalised.includes("\0") && normalised.split(CRLF).every((l) => l.length <= 998);
  if (sevenBit) {
    return { headers: [`Content-Type: ${type}; charset=utf-8`, "Content-Transfer-Encoding: 7bit"], body: [Buffer.from(normalised, "latin1")] };
  }
  return {
    headers: [`Content-Type: ${type}; charset=utf-8`, "Content-Transfer-Encoding: base64"],
    body: [Buffer.from(base64Lines(Buffer.from(content, "utf8")), "latin1")],
  };
}

function attachmentPart(att: BuildAttachment): Part {
  const content = typeof att.content === "string" ? Buffer.from(att.content, "utf8") : att.content;
  const headers = [
    `Content-Type: ${att.contentType}; ${fileParameter("name", att.filename)}`,
    `Content-Disposition: ${att.inline ? "inline" : "attachment"}; ${fileParameter("filename", att.filename)}`,
  ];
  if (att.contentId !== undefined) headers.push(`Content-ID: ${bracketed(att.contentId)}`);
  const lines = content.toString("latin1").split(/\r?\n/);
  const embeddable = /^message\//i.test(att.contentType) && !content.includes(0) && lines.every((l) => l.length <= 998);
  if (embeddable) {
    headers.push("Content-Transfer-Encoding: 8bit");
    return { headers, body: [Buffer.from(lines.join(CRLF), "latin1")] };
  }
  headers.push("Content-Transfer-Encoding: base64");
  return { headers, body: [Buffer.from(base64Lines(content), "latin1")] };
}

function multipart(subtype: string, parts: Part[]): Part {
  // "=_" cannot occur in base64 or quoted-printable, and the random part keeps nesting levels apart.
  const boundary = `=_mailgate_${randomBytes(12).toString("hex")}`;
  const body: Buffer[] = [];
  for (const part of parts) {
    body.push(Buffer.from(`--${boundary}${CRLF}${part.headers.map((h) => `${h}${CRLF}`).join("")}${CRLF}`, "utf8"), ...part.body);
    body.push(Buffer.from(CRLF, "latin1"));
  }
  body.push(Buffer.from(`--${boundary}--${CRLF}`, "latin1"));
  return { headers: [`Content-Type: multipart/${subtype}; boundary="${boundary}"`], body };
}

function base64Lines(content: Buffer): string {
  const encoded = content.toString("base64");
  const lines: string[] = [];
  for (let i = 0; i < encoded.length; i += 76) lines.push(encoded.slice(i, i + 76));
  return lines.join(CRLF) + CRLF;
}

/** RFC 2231 for names that are not plain ASCII, a quoted string otherwise. */
function fileParameter(name: string, value: string): string {
  if (/^[\x20-\x7e]*$/.test(value)) return `${name}="${value.replace(/["\\]/g, "\\$&")}"`;
  const encoded = encodeURIComponent(value).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `${name}*=UTF-8''${encoded}`;
}

function formatAddressList(addresses: string[]): string {
  return addresses.map(formatAddress).join(`,${CRLF} `);
}

function formatAddress(value: string): string {
  const match = /^(.*)<([^<>]*)>\s*$/.exec(value.trim());
  if (!match) return value.trim();
  const name = (match[1] ?? "").trim().replace(/^"(.*)"$/, "$1");
  const address = (match[2] ?? "").trim();
  if (name === "") return `<${address}>`;
  if (!/^[\x20-\x7e]*$/.test(name)) return `${encodeWords(name)} <${address}>`;
  return /[()<>[\]:;@\\,."]/.test(name) ? `"${name.replace(/["\\]/g, "\\$&")}" <${address}>` : `${name} <${address}>`;
}

/** Plain when it can be; encoded words when it has non-ASCII, controls, "=?" or would be too long. */
function encodeHeaderText(value: string): string {
  const plain = /^[\x20-\x7e]*$/.test(value) && !value.includes("=?") && value.length <= 900;
  return plain ? value : encodeWords(value);
}

/** UTF-8 B-encoded words of at most 45 bytes each, never splitting a character, one per folded line. */
function encodeWords(value: string): string {
  const words: string[] = [];
  let chunk: Buffer[] = [];
  let size = 0;
  const flush = () => {
    if (size > 0) words.push(`=?UTF-8?B?${Buffer.concat(chunk).toString("base64")}?=`);
    chunk = [];
    size = 0;
  };
  for (const ch of value) {
    const bytes = Buffer.from(ch, "utf8");
    if (size + bytes.length > 45) flush();
    chunk.push(bytes);
    size += bytes.length;
  }
  flush();
  return words.length === 0 ? "" : words.join(`${CRLF} `);
}

function bracketed(id: string): string {
  const trimmed = id.trim();
  return trimmed.startsWith("<") ? trimmed : `<${trimmed}>`;
}

function domainOf(address: string): string {
  const match = /@([^@<>\s]+)>?\s*$/.exec(address);
  return match?.[1] ?? "mailgate.test";
}

const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

function formatDate(date: Date): string {
  const two = (n: number) => String(n).padStart(2, "0");
  return `${DAYS[date.getUTCDay()]}, ${date.getUTCDate()} ${MONTHS[date.getUTCMonth()]} ${date.getUTCFullYear()} ${two(date.getUTCHours())}:${two(date.getUTCMinutes())}:${two(date.getUTCSeconds())} +0000`;
}
