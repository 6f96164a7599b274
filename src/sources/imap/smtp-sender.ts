// Sending one outgoing message (its MIME built once, build-message.ts) through an IMAP source's
// SMTP server with nodemailer, and what the server's answer means for the outbox: sent, worth
// another try later, or failed with the server's own words.
import { rootCertificates } from "node:tls";
import nodemailer, { type SMTPSentMessageInfo, type Transporter } from "nodemailer";
import type { SMTPTransportOptions } from "nodemailer/lib/smtp-transport";

export type SmtpConfig = { host: string; port: number; security: "ssl" | "starttls" | "none"; user: string };

export type SmtpSend = {
  config: SmtpConfig;
  password: string;
  /** The envelope: who bounces go to, and every recipient, Bcc included (it is not in the MIME). */
  envelope: { from: string; to: string[] };
  raw: Buffer;
  /** Extra certificate authorities to trust beside the public ones (a private server, the tests). */
  ca?: string;
  timeoutMs?: number;
};

export type SmtpOutcome =
  | { kind: "sent"; response: string; rejected: string[] }
  /** The server or the network may accept it later: a 4xx answer, a timeout, a dropped connection. */
  | { kind: "transient"; error: string }
  /** Sending it again would get the same answer: a 5xx (a refused recipient, a failed login). */
  | { kind: "permanent"; error: string };

const TIMEOUT_MS = 30_000;

/** Sends one message: over a connection of its own here, or one kept open (smtp-pool.ts). */
export type SmtpSender = (send: SmtpSend) => Promise<SmtpOutcome>;

/** One connection for one message: connect, log in, send, say goodbye. */
export const sendViaSmtp: SmtpSender = async (send) => {
  const transport = nodemailer.createTransport(transportOptions(send));
  try {
    return await sendWithTransport(transport, send);
  } finally {
    transport.close();
  }
};

export async function sendWithTransport(transport: Transporter<SMTPSentMessageInfo>, send: Pick<SmtpSend, "envelope" | "raw">): Promise<SmtpOutcome> {
  try {
    const info = await transport.sendMail({ envelope: send.envelope, raw: send.raw });
    // Some recipients refused while others took it: it is sent, and the refusals are told.
    if (info.accepted.length === 0) return { kind: "permanent", error: `every recipient was refused: ${info.response}` };
    return { kind: "sent", response: info.response, rejected: info.rejected.map(String) };
  } catch (err) {
    return classifySmtpError(err);
  }
}

/** Logs in and says goodbye: Test Connection's SMTP half. Null when it worked, else the reason. */
export async function verifySmtp(send: Pick<SmtpSend, "config" | "password" | "ca" | "timeoutMs">): Promise<string | null> {
  const transport = nodemailer.createTransport(transportOptions(send));
  try {
    await transport.verify();
    return null;
  } catch (err) {
    return classifySmtpError(err).error;
  } finally {
    transport.close();
  }
}

type SmtpError = Error & { code?: string; responseCode?: number; response?: string; rejected?: unknown };

/** 4xx and network trouble are worth another try; 5xx is final (RFC 5321 §4.2.1). */
export function classifySmtpError(err: unknown): Exclude<SmtpOutcome, { kind: "sent" }> {
  const e = err as SmtpError;
  const words = e.response?.trim() || e.message || String(err);
  if (typeof e.responseCode === "number") {
    return e.responseCode >= 500 ? { kind: "permanent", error: words } : { kind: "transient", error: words };
  }
  // No answer from the server: it could not be reached, or the connection broke off.
  return { kind: "transient", error: words };
}

export function transportOptions(send: Pick<SmtpSend, "config" | "password" | "ca" | "timeoutMs">): SMTPTransportOptions {
  const { config } = send;
  const timeout = send.timeoutMs ?? TIMEOUT_MS;
  return {
    host: config.host,
    port: config.port,
    secure: config.security === "ssl",
    // starttls: upgrade or fail, never send the password in clear; none: local servers only.
    requireTLS: config.security === "starttls",
    ignoreTLS: config.security === "none",
    auth: config.user ? { user: config.user, pass: send.password } : undefined,
    // A `ca` replaces Node's list of authorities, so the public ones are given with it.
    ...(send.ca ? { tls: { ca: [...rootCertificates, send.ca] } } : {}),
    connectionTimeout: timeout,
    greetingTimeout: timeout,
    socketTimeout: timeout,
    // Files and URLs are never read on a message's behalf: the MIME is given whole.
    disableFileAccess: true,
    disableUrlAccess: true,
  };
}
