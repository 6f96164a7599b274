// Which provider an outgoing message leaves through: the source's own. IMAP and api sources send
// with their SMTP block, Gmail with users.messages.send, Microsoft 365 with sendMail. Every
// provider's answer comes back as one outcome the outbox understands.
import type { Context } from "../context.ts";
import type { SourceRecord } from "../db/sources.ts";
import { openGmailSession, NotAuthorizedError } from "../sources/gmail/gmail-session.ts";
import { sendViaGmail } from "../sources/gmail/send-message.ts";
import { sendViaSmtp } from "../sources/imap/smtp-sender.ts";
import { smtpSettingsOf } from "../sources/smtp-settings.ts";

export type SendOutcome =
  | { kind: "sent"; providerId: string | null; threadId: string | null }
  | { kind: "transient"; error: string; retryAfterMs?: number }
  | { kind: "permanent"; error: string }
  | { kind: "waiting_for_authorization"; error: string };

export type ReadyToSend = {
  source: SourceRecord;
  raw: Buffer;
  /** Every recipient, Bcc included: SMTP needs them in the envelope. */
  recipients: string[];
  providerThreadId: string | null;
};

/** Why a source cannot send at all (a 409 for a reply asked of it), or null when it can. */
export function cannotSendReason(ctx: Context, source: SourceRecord): string | null {
  switch (source.kind) {
    case "gmail":
    case "graph":
      return null;
    case "imap":
    case "api":
      return smtpSettingsOf(ctx, source)
        ? null
        : `source ${source.id} (${source.kind}) has no SMTP settings to send with: add its "smtp" block (host, port, security, user, password) first`;
  }
}

export async function sendThroughSource(ctx: Context, message: ReadyToSend): Promise<SendOutcome> {
  const { source } = message;
  switch (source.kind) {
    case "imap":
    case "api":
      return sendWithSmtp(ctx, message);
    case "gmail":
      return sendWithGmail(ctx, message);
    case "graph":
      return { kind: "permanent", error: "sending through Microsoft 365 is not available yet" };
  }
}

async function sendWithSmtp(ctx: Context, { source, raw, recipients }: ReadyToSend): Promise<SendOutcome> {
  const smtp = smtpSettingsOf(ctx, source);
  if (!smtp) return { kind: "permanent", error: cannotSendReason(ctx, source)! };
  const sent = await sendViaSmtp({
    config: smtp.config,
    password: smtp.password,
    envelope: { from: source.address, to: recipients },
    raw,
  });
  if (sent.kind !== "sent") return sent;
  return { kind: "sent", providerId: sent.response, threadId: null };
}

async function sendWithGmail(ctx: Context, { source, raw, providerThreadId }: ReadyToSend): Promise<SendOutcome> {
  let session;
  try {
    session = openGmailSession(ctx, source);
  } catch (err) {
    if (err instanceof NotAuthorizedError) return { kind: "waiting_for_authorization", error: err.message };
    throw err;
  }
  const sent = await sendViaGmail(session, raw, providerThreadId);
  return sent.kind === "sent" ? { kind: "sent", providerId: sent.providerId, threadId: sent.threadId } : sent;
}
