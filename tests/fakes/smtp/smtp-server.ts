// A real SMTP server (smtp-server) on a free loopback port for tests and benches: AUTH PLAIN/LOGIN
// with one account, every message it accepts recorded with its envelope and when DATA ended, and
// recipients refused on request. STARTTLS on the fakes' certificate, or `plain` (no TLS, AUTH in
// the clear, as a local relay is).
import type { AddressInfo } from "node:net";
import { SMTPServer, type SMTPServerOptions } from "smtp-server";
import { testCertificate } from "../microsoft/test-certificate.ts";

export type ReceivedMail = { from: string; to: string[]; raw: Buffer; at: number; secure: boolean; user: string | undefined };

export const FAKE_SMTP_USER = "support@msp.example";
export const FAKE_SMTP_PASSWORD = "s3cret-smtp";

export type FakeSmtp = {
  host: "127.0.0.1";
  port: number;
  user: string;
  password: string;
  /** User names of every login attempt, good or bad. */
  logins: string[];
  received: ReceivedMail[];
  /** Answers RCPT TO for `address` with this code and text (550 refuses it, 450 asks to try later). */
  refuse(address: string, code: number, text: string): void;
  /** Answers the end of DATA only after `ms`, from now on (0: at once). */
  delayData(ms: number): void;
  close(): Promise<void>;
};

export async function startFakeSmtp(
  opts: { user?: string; password?: string; plain?: boolean; overrides?: Partial<SMTPServerOptions> } = {},
): Promise<FakeSmtp> {
  const user = opts.user ?? FAKE_SMTP_USER;
  const password = opts.password ?? FAKE_SMTP_PASSWORD;
  const logins: string[] = [];
  const received: ReceivedMail[] = [];
  const refusals = new Map<string, { code: number; text: string }>();
  let dataDelayMs = 0;
  const server = new SMTPServer({
    ...(opts.plain ? { disabledCommands: ["STARTTLS"], allowInsecureAuth: true } : { key: testCertificate.key, cert: testCertificate.cert }),
    authMethods: ["PLAIN", "LOGIN"],
    onAuth(auth, _session, callback) {
      logins.push(auth.username ?? "");
      if (auth.username === user && auth.password === password) callback(null, { user });
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
      stream.on("end", () => setTimeout(accept, dataDelayMs));
      const accept = () => {
        received.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks),
          at: Date.now(),
          secure: session.secure,
          user: session.user as string | undefined,
        });
        callback(null, `2.0.0 Ok: queued as Q${received.length}`);
      };
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
    refuse: (address, code, text) => void refusals.set(address.toLowerCase(), { code, text }),
    delayData: (ms) => void (dataDelayMs = ms),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
