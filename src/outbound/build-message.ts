// The MIME of one outgoing message, built once with nodemailer's composer and then handed as the
// same bytes to whichever provider sends it (SMTP, Gmail's raw send, Graph's MIME sendMail), so
// what was sent is exactly what is stored and threaded.
import MailComposer from "nodemailer/lib/mail-composer";
import { LOOP_HEADER } from "../pipeline/classify.ts";
import { threadHeaders } from "./thread-headers.ts";

export type OutboundAddress = { address: string; name?: string | null };

export type OutboundAttachment = { filename: string; contentType: string; content: Buffer };

export type OutboundMessage = {
  /** `<id@domain>` at the source's domain (outboundMessageId). */
  messageId: string;
  from: OutboundAddress;
  to: OutboundAddress[];
  cc?: OutboundAddress[];
  bcc?: OutboundAddress[];
  subject: string;
  text: string;
  html?: string | null;
  /** The thread's Message-IDs, oldest first: In-Reply-To and References come from them. */
  thread: string[];
  attachments?: OutboundAttachment[];
  /** An acknowledgement is a machine's answer (RFC 3834), so other machines do not answer it. */
  automatic: boolean;
  date: Date;
};

/** `loopToken`: this deployment's loop header value (loop-token.ts). */
export async function buildOutboundMime(m: OutboundMessage, loopToken: string): Promise<Buffer> {
  const { inReplyTo, references } = threadHeaders(m.thread);
  const headers: Record<string, string> = { [LOOP_HEADER]: loopToken };
  if (m.automatic) {
    headers["Auto-Submitted"] = "auto-replied";
    headers["X-Auto-Response-Suppress"] = "All";
  }
  const composer = new MailComposer({
    messageId: m.messageId,
    date: m.date,
    from: address(m.from),
    to: m.to.map(address),
    cc: (m.cc ?? []).map(address),
    bcc: (m.bcc ?? []).map(address),
    subject: m.subject,
    text: m.text,
    ...(m.html ? { html: m.html } : {}),
    ...(inReplyTo ? { inReplyTo } : {}),
    ...(references.length > 0 ? { references } : {}),
    headers,
    // Content only, given as bytes: a path or URL in an attachment would make the composer read a
    // file or fetch a URL on a caller's behalf.
    attachments: (m.attachments ?? []).map((a) => ({ filename: a.filename, contentType: a.contentType, content: a.content })),
    disableFileAccess: true,
    disableUrlAccess: true,
  });
  // Bcc recipients travel in the envelope only; the composer leaves the header out.
  return composer.compile().build();
}

const address = (a: OutboundAddress) => ({ address: a.address, name: a.name ?? "" });

/**
 * The MIME with a Bcc header in front (one address per folded line), or as it is without Bcc.
 * For providers that take the recipients from the headers (Gmail, Microsoft 365) and drop the
 * Bcc header from what they deliver; SMTP carries Bcc in the envelope instead.
 */
export function withBccHeader(raw: Buffer, bcc: readonly string[]): Buffer {
  if (bcc.length === 0) return raw;
  return Buffer.concat([Buffer.from(`Bcc: ${bcc.join(",\r\n ")}\r\n`, "utf8"), raw]);
}
