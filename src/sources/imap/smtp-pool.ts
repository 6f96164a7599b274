// SMTP connections kept open between messages, one nodemailer pool per account, for the outbox:
// a burst of acknowledgements pays a connection and a login per pooled connection instead of one
// per message (bench/README.md, bench:outbound). A source whose SMTP settings change gets a new
// pool; the old one is closed. Idle connections are closed by nodemailer after 4 minutes (below
// the 5 minutes RFC 5321 asks servers to wait).
import { createHash } from "node:crypto";
import nodemailer, { type SMTPSentMessageInfo, type Transporter } from "nodemailer";
import type { SMTPTransportOptions } from "nodemailer/lib/smtp-transport";
import { sendWithTransport, transportOptions, type SmtpSender } from "./smtp-sender.ts";

/**
 * Connections at once per account: nodemailer's default, within what hosted servers allow one
 * mailbox (Microsoft 365 refuses more than a few concurrent SMTP connections per mailbox).
 */
const MAX_CONNECTIONS = 5;

export type SmtpPool = {
  send: SmtpSender;
  /** Closes every connection (QUIT); a message being sent is finished first. */
  close(): void;
};

export function createSmtpPool(): SmtpPool {
  const pools = new Map<string, { settings: string; transport: Transporter<SMTPSentMessageInfo> }>();
  const poolFor = (options: SMTPTransportOptions): Transporter<SMTPSentMessageInfo> => {
    const account = `${options.host}:${options.port}:${options.auth?.user ?? ""}`;
    const settings = createHash("sha256").update(JSON.stringify(options)).digest("hex");
    const current = pools.get(account);
    if (current?.settings === settings) return current.transport;
    current?.transport.close();
    const transport = nodemailer.createTransport({ ...options, pool: true, maxConnections: MAX_CONNECTIONS });
    pools.set(account, { settings, transport });
    return transport;
  };
  return {
    send: (send) => sendWithTransport(poolFor(transportOptions(send)), send),
    close: () => {
      for (const { transport } of pools.values()) transport.close();
      pools.clear();
    },
  };
}
