// Which provider an outgoing message leaves through: the source's own. IMAP and api sources send
// with their SMTP block, Gmail with users.messages.send, Microsoft 365 with sendMail. Every
// provider's answer comes back as one outcome the outbox understands.
import type { Context } from "../context.ts";
import type { SourceRecord } from "../db/sources.ts";
import { openGmailSession, NotAuthorizedError } from "../sources/gmail/gmail-session.ts";
import { sendViaGmail } from "../sources/gmail/send-message.ts";
import { openGraphSession } from "../sources/graph/graph-session.ts";
import { graphSourceCanSend } from "../sources/graph/graph-tokens.ts";
import { REAUTHORIZE_TO_SEND, sendViaGraph } from "../sources/graph/send-message.ts";
import { sendViaSmtp, type SmtpSender } from "../sources/imap/smtp-sender.ts";
import { withBccHeader } from "./build-message.ts";
import { appendToSent } from "../sources/imap/save-to-sent.ts";
import { imapSourceOf } from "../sources/imap/imap-source.ts";
import { hasSmtpBlock, smtpSettingsOf } from "../sources/smtp-settings.ts";

export type SendOutcome =
  | {
      kind: "sent";
      providerId: string | null;
      threadId: string | null;
      /** The copy to the Sent folder (saveToSent), under way: never awaited before the outcome is recorded. */
      copying?: Promise<void>;
    }
  | { kind: "transient"; error: string; retryAfterMs?: number }
  | { kind: "permanent"; error: string }
  | { kind: "waiting_for_authorization"; error: string };

export type ReadyToSend = {
  source: SourceRecord;
  /** The MIME as built: To and Cc in its headers, Bcc not. */
  raw: Buffer;
  /** Every recipient, Bcc included: SMTP needs them in the envelope. */
  recipients: string[];
  bcc: string[];
  providerThreadId: string | null;
};

/** Why a source cannot send at all (a 409 for a reply asked of it), or null when it can. */
export function cannotSendReason(source: SourceRecord): string | null {
  switch (source.kind) {
    case "gmail":
    case "graph":
      return null;
    case "imap":
    case "api":
    case "smtp":
    case "inbound-webhook":
      return hasSmtpBlock(source)
        ? null
        : `source ${source.id} (${source.kind}) has no SMTP settings to send with: add its "smtp" block (host, port, security, user, password) first`;
  }
}

/** `smtp` sends over SMTP: the outbox's pooled connections, else a connection per message. */
export async function sendThroughSource(ctx: Context, message: ReadyToSend, smtp: SmtpSender = sendViaSmtp): Promise<SendOutcome> {
  const { source } = message;
  switch (source.kind) {
    case "imap":
    case "api":
    case "smtp":
    case "inbound-webhook":
      return sendWithSmtp(ctx, message, smtp);
    case "gmail":
      return sendWithGmail(ctx, message);
    case "graph":
      return sendWithGraph(ctx, message);
  }
}

async function sendWithSmtp(ctx: Context, { source, raw, recipients }: ReadyToSend, send: SmtpSender): Promise<SendOutcome> {
  const secrets = source.secrets ? ctx.secrets.openJson<Record<string, unknown>>(source.secrets) : {};
  const smtp = smtpSettingsOf(source, secrets);
  if (!smtp) return { kind: "permanent", error: cannotSendReason(source)! };
  const sent = await send({ config: smtp.config, password: smtp.password, envelope: { from: source.address, to: recipients }, raw, ca: ctx.smtpCa });
  if (sent.kind !== "sent") return sent;
  // The copy is made while the outcome is recorded, not before: a crash between the server's
  // acceptance and the record sends the mail again, and an IMAP login would widen that window.
  const copying = smtp.saveToSent ? saveCopy(ctx, source, raw, smtp.sentFolder) : undefined;
  return { kind: "sent", providerId: sent.response, threadId: null, copying };
}

/** The copy in the Sent folder is a courtesy: a failure is logged on the source, the mail counts as sent. */
async function saveCopy(ctx: Context, source: SourceRecord, raw: Buffer, sentFolder: string | undefined): Promise<void> {
  try {
    const imap = imapSourceOf(ctx, source);
    const saved = await appendToSent({ imap: { config: imap.config, password: imap.password }, sentFolder, raw, sentAt: ctx.clock.now() });
    if (!saved.ok) ctx.log.warn({ sourceId: source.id, code: saved.code, error: saved.error }, "a sent mail's copy could not be saved to the Sent folder");
  } catch (err) {
    ctx.log.error({ err, sourceId: source.id }, "saving a sent mail's copy to the Sent folder crashed");
  }
}

async function sendWithGmail(ctx: Context, { source, raw, bcc, providerThreadId }: ReadyToSend): Promise<SendOutcome> {
  let session;
  try {
    session = openGmailSession(ctx, source);
  } catch (err) {
    if (err instanceof NotAuthorizedError) return { kind: "waiting_for_authorization", error: err.message };
    throw err;
  }
  const sent = await sendViaGmail(session, withBccHeader(raw, bcc), providerThreadId);
  return sent.kind === "sent" ? { kind: "sent", providerId: sent.providerId, threadId: sent.threadId } : sent;
}

/** A source authorized before Mail.Send was asked for waits, without a request, until it is authorized again. */
async function sendWithGraph(ctx: Context, { source, raw, bcc }: ReadyToSend): Promise<SendOutcome> {
  if (!graphSourceCanSend(ctx, source.secrets)) return { kind: "waiting_for_authorization", error: REAUTHORIZE_TO_SEND };
  return sendViaGraph(openGraphSession(ctx, source.id), raw, bcc);
}
