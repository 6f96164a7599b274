// An SMTP server (smtp-server) on a free loopback port that keeps what it accepts: the far end of
// mailgate's outgoing mail in tests. Plain SMTP with AUTH allowed without TLS, as a local relay
// is; the STARTTLS path is tested in smtp-sender.test.ts.
import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";

export type ReceivedMail = { from: string; to: string[]; raw: Buffer; at: number };

export type SmtpReceiver = {
  port: number;
  received: ReceivedMail[];
  /** Recipients answered with this code and text at RCPT time (e.g. 550 for a refused address). */
  refuse(address: string, code: number, text: string): void;
  close(): Promise<void>;
};

export const SMTP_USER = "support@mailgate.test";
export const SMTP_PASSWORD = "smtp-password-for-tests";

export async function startSmtpReceiver(): Promise<SmtpReceiver> {
  const received: ReceivedMail[] = [];
  const refusals = new Map<string, { code: number; text: string }>();
  const server = new SMTPServer({
    authMethods: ["PLAIN", "LOGIN"],
    allowInsecureAuth: true,
    disabledCommands: ["STARTTLS"],
    onAuth(auth, _session, callback) {
      if (auth.username === SMTP_USER && auth.password === SMTP_PASSWORD) callback(null, { user: auth.username });
      else callback(Object.assign(new Error("5.7.8 Authentication credentials invalid"), { responseCode: 535 }));
    },
    onRcptTo(address, _session, callback) {
      const refusal = refusals.get(address.address.toLowerCase());
      if (refusal) callback(Object.assign(new Error(refusal.text), { responseCode: refusal.code }));
      else callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        received.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks),
          at: Date.now(),
        });
        callback(null, `2.0.0 Ok: queued as Q${received.length}`);
      });
    },
    logger: false,
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.server.address() as AddressInfo).port,
    received,
    refuse: (address, code, text) => void refusals.set(address.toLowerCase(), { code, text }),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
