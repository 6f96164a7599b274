// SMTP connections kept open between messages, one nodemailer pool per account, for the outbox:
// a burst of acknowledgements pays a connection and a login per pooled connection instead of one
// per message. A source whose SMTP settings change gets a new
// pool and the old one is closed. nodemailer closes a connection idle for 4 minutes (below the 5
// RFC 5321 asks servers to wait) and starts a new one after 100 messages.
import { createHash } from "node:crypto";
import nodemailer, { type SMTPSentMessageInfo, type Transporter } from "nodemailer";
import { sendWithTransport, transportOptions, type SmtpSend, type SmtpSender } from "./smtp-sender.ts";

export type SmtpPool = {
  send: SmtpSender;
  /** Closes every connection (QUIT); a message being sent is finished first. */
  close(): void;
};

/**
 * `maxConnections` per account: the outbox gives its number of senders, so a message never waits
 * in a pool's queue (its lease would be running) and an account sees no more connections at once
 * than it did with one connection per message.
 */
export function createSmtpPool(opts: { maxConnections: number }): SmtpPool {
  const pools = new Map<string, { settings: string; transport: Transporter<SMTPSentMessageInfo> }>();
  const poolFor = (send: SmtpSend): Transporter<SMTPSentMessageInfo> => {
    const { host, port, user } = send.config;
    const account = `${host}:${port}:${user}`;
    const settings = createHash("sha256").update(JSON.stringify([send.config, send.password, send.ca ?? null, send.timeoutMs ?? null])).digest("hex");
    const current = pools.get(account);
    if (current?.settings === settings) return current.transport;
    current?.transport.close();
    const transport = nodemailer.createTransport({ ...transportOptions(send), pool: true, maxConnections: opts.maxConnections });
    pools.set(account, { settings, transport });
    return transport;
  };
  return {
    send: (send) => sendWithTransport(poolFor(send), send),
    close: () => {
      for (const { transport } of pools.values()) transport.close();
      pools.clear();
    },
  };
}
