// A real SMTP server (smtp-server) on a free loopback port for tests: STARTTLS on the fakes'
// certificate, AUTH PLAIN/LOGIN with one account, and every message it accepts recorded.
import type { AddressInfo } from "node:net";
import { SMTPServer, type SMTPServerOptions } from "smtp-server";
import { testCertificate } from "../microsoft/test-certificate.ts";

export type ReceivedMail = { from: string; to: string[]; raw: Buffer };

export type FakeSmtp = {
  host: "127.0.0.1";
  port: number;
  user: string;
  password: string;
  /** User names of every login attempt, good or bad. */
  logins: string[];
  received: ReceivedMail[];
  close(): Promise<void>;
};

export async function startFakeSmtp(opts: { user?: string; password?: string; overrides?: Partial<SMTPServerOptions> } = {}): Promise<FakeSmtp> {
  const user = opts.user ?? "support@msp.example";
  const password = opts.password ?? "s3cret-smtp";
  const logins: string[] = [];
  const received: ReceivedMail[] = [];
  const server = new SMTPServer({
    key: testCertificate.key,
    cert: testCertificate.cert,
    authMethods: ["PLAIN", "LOGIN"],
    onAuth(auth, _session, callback) {
      logins.push(auth.username ?? "");
      if (auth.username === user && auth.password === password) callback(null, { user });
      else callback(Object.assign(new Error("5.7.8 Authentication credentials invalid"), { responseCode: 535 }));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        received.push({ from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "", to: session.envelope.rcptTo.map((r) => r.address), raw: Buffer.concat(chunks) });
        callback(null, "2.0.0 Ok: queued");
      });
    },
    logger: false,
    ...opts.overrides,
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    host: "127.0.0.1",
    port: (server.server.address() as AddressInfo).port,
    user,
    password,
    logins,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
