// Sending through an IMAP source's SMTP server: nodemailer against a real SMTP server library
// (smtp-server) on loopback, with STARTTLS on the fakes' certificate and AUTH; what it receives
// is parsed back with mailparser.
import { simpleParser } from "mailparser";
import type { SMTPServerOptions } from "smtp-server";
import { afterEach, describe, expect, it } from "vitest";
import { buildOutboundMime } from "../../../src/outbound/build-message.ts";
import { createSmtpPool } from "../../../src/sources/imap/smtp-pool.ts";
import { classifySmtpError, sendViaSmtp, verifySmtp, type SmtpConfig } from "../../../src/sources/imap/smtp-sender.ts";
import { testCertificate } from "../../fakes/microsoft/test-certificate.ts";
import { FAKE_SMTP_PASSWORD, FAKE_SMTP_USER, startFakeSmtp, type FakeSmtp } from "../../fakes/smtp/smtp-server.ts";

/** The loop header value mailgate would write (outbound/loop-token.ts). */
const LOOP_TOKEN = "test-loop-token";

const USER = FAKE_SMTP_USER;
const PASSWORD = FAKE_SMTP_PASSWORD;
let server: FakeSmtp | null = null;

/** The fake SMTP server with STARTTLS, refusing nobody@acme.com (550) and busy@acme.com (450). */
async function startSmtp(overrides: Partial<SMTPServerOptions> = {}) {
  server = await startFakeSmtp({ overrides });
  server.refuse("nobody@acme.com", 550, "5.1.1 No such user here");
  server.refuse("busy@acme.com", 450, "4.2.1 Mailbox busy, try later");
  const config: SmtpConfig = { host: "localhost", port: server.port, security: "starttls", user: USER };
  return { config, received: server.received, logins: server.logins };
}

afterEach(async () => {
  await server?.close();
  server = null;
});

const mime = () =>
  buildOutboundMime({
    messageId: "<mailgate.00ff@msp.example>",
    from: { address: USER, name: "MSP Support" },
    to: [{ address: "john@acme.com", name: "John" }],
    bcc: [{ address: "audit@msp.example" }],
    subject: "Re: [Ticket #7] Printer",
    text: "Fixed.",
    thread: ["root@acme.com"],
    attachments: [{ filename: "report.pdf", contentType: "application/pdf", content: Buffer.from("%PDF-1.4") }],
    automatic: false,
    date: new Date("2026-12-06T10:00:00Z"),
  }, LOOP_TOKEN);

/** Sends the test message over STARTTLS, trusting the fakes' certificate. */
const sendTo = async (smtp: { config: SmtpConfig }, to: string[], password = PASSWORD) =>
  sendViaSmtp({ config: smtp.config, password, envelope: { from: USER, to }, raw: await mime(), ca: testCertificate.cert });

describe("sending through SMTP", () => {
  it("When a message is sent over STARTTLS with a login, then the server receives it whole, Bcc in the envelope only", async () => {
    const smtp = await startSmtp();
    const raw = await mime();
    const outcome = await sendViaSmtp({
      config: smtp.config,
      password: PASSWORD,
      envelope: { from: USER, to: ["john@acme.com", "audit@msp.example"] },
      raw,
      ca: testCertificate.cert,
    });
    expect(outcome).toEqual({ kind: "sent", response: expect.stringContaining("queued as Q1"), rejected: [] });
    expect(smtp.received).toHaveLength(1);
    const got = smtp.received[0]!;
    expect(got).toMatchObject({ from: USER, to: ["john@acme.com", "audit@msp.example"], secure: true, user: USER });
    const parsed = await simpleParser(got.raw);
    expect(parsed.messageId).toBe("<mailgate.00ff@msp.example>");
    expect(parsed.inReplyTo).toBe("<root@acme.com>");
    expect(parsed.subject).toBe("Re: [Ticket #7] Printer");
    expect(parsed.attachments.map((a) => a.filename)).toEqual(["report.pdf"]);
    expect(got.raw.toString("latin1")).not.toContain("audit@msp.example");
  });

  it("When the server offers no STARTTLS and the source asks for it, then nothing is sent and it fails without the password on the wire", async () => {
    const smtp = await startSmtp({ disabledCommands: ["STARTTLS"], allowInsecureAuth: true });
    const outcome = await sendViaSmtp({ config: smtp.config, password: PASSWORD, envelope: { from: USER, to: ["john@acme.com"] }, raw: await mime() });
    expect(outcome).toEqual({ kind: expect.not.stringMatching(/^sent$/), error: expect.stringContaining("command not recognized") });
    expect(smtp.logins).toEqual([]);
    expect(smtp.received).toHaveLength(0);
  });

  it("When the certificate is not trusted, then nothing is sent", async () => {
    const smtp = await startSmtp();
    const outcome = await sendViaSmtp({ config: smtp.config, password: PASSWORD, envelope: { from: USER, to: ["john@acme.com"] }, raw: await mime(), timeoutMs: 5_000 });
    expect(outcome).toEqual({ kind: "transient", error: expect.stringMatching(/certificate/i) });
    expect(smtp.received).toHaveLength(0);
  });

  it("When the login is refused, then it fails for good with the server's words", async () => {
    const smtp = await startSmtp();
    const outcome = await sendTo(smtp, ["john@acme.com"], "wrong");
    expect(outcome).toEqual({ kind: "permanent", error: expect.stringContaining("Authentication credentials invalid") });
  });

  it("When the only recipient does not exist, then it fails for good with the server's words", async () => {
    const smtp = await startSmtp();
    const outcome = await sendTo(smtp, ["nobody@acme.com"]);
    expect(outcome).toEqual({ kind: "permanent", error: expect.stringContaining("No such user here") });
    expect(smtp.received).toHaveLength(0);
  });

  it("When one recipient of two is refused, then it is sent and the refused one is named", async () => {
    const smtp = await startSmtp();
    const outcome = await sendTo(smtp, ["john@acme.com", "nobody@acme.com"]);
    expect(outcome).toEqual({ kind: "sent", response: expect.any(String), rejected: ["nobody@acme.com"] });
    expect(smtp.received[0]!.to).toEqual(["john@acme.com"]);
  });

  it("When the server says to try later (4xx), then it is a transient failure", async () => {
    const smtp = await startSmtp();
    const outcome = await sendTo(smtp, ["busy@acme.com"]);
    expect(outcome).toEqual({ kind: "transient", error: expect.stringContaining("Mailbox busy") });
  });

  it("When nothing listens on the port, then it is a transient failure", async () => {
    const smtp = await startSmtp();
    const { port } = smtp.config;
    await server!.close();
    server = null;
    const outcome = await sendViaSmtp({ config: { ...smtp.config, port }, password: PASSWORD, envelope: { from: USER, to: ["john@acme.com"] }, raw: await mime() });
    expect(outcome.kind).toBe("transient");
  });

  it("When Test Connection checks SMTP, then a good login passes and a bad one says why", async () => {
    const smtp = await startSmtp();
    expect(await verifySmtp({ config: smtp.config, password: PASSWORD, ca: testCertificate.cert })).toBeNull();
    expect(await verifySmtp({ config: smtp.config, password: "wrong", ca: testCertificate.cert })).toContain("Authentication credentials invalid");
  });
});

describe("sending through the outbox's pool of connections", () => {
  const send = async (pool: ReturnType<typeof createSmtpPool>, smtp: { config: SmtpConfig }, to: string[], password = PASSWORD) =>
    pool.send({ config: smtp.config, password, envelope: { from: USER, to }, raw: await mime(), ca: testCertificate.cert });

  it("When three messages go out one after another, then the server sees one login and all three messages", async () => {
    const smtp = await startSmtp();
    const pool = createSmtpPool({ maxConnections: 2 });
    try {
      for (let i = 0; i < 3; i++) expect(await send(pool, smtp, ["john@acme.com"])).toMatchObject({ kind: "sent" });
      expect(smtp.logins).toEqual([USER]);
      expect(smtp.received).toHaveLength(3);
    } finally {
      pool.close();
    }
  });

  it("When a recipient is refused, then that message fails with the server's words and the next one still goes out on the same connection", async () => {
    const smtp = await startSmtp();
    const pool = createSmtpPool({ maxConnections: 2 });
    try {
      expect(await send(pool, smtp, ["nobody@acme.com"])).toEqual({ kind: "permanent", error: expect.stringContaining("No such user here") });
      expect(await send(pool, smtp, ["busy@acme.com"])).toEqual({ kind: "transient", error: expect.stringContaining("Mailbox busy") });
      expect(await send(pool, smtp, ["john@acme.com"])).toMatchObject({ kind: "sent" });
      expect(smtp.logins).toEqual([USER]);
    } finally {
      pool.close();
    }
  });

  it("When the source's password changes, then the next message logs in with the new one", async () => {
    const smtp = await startSmtp();
    const pool = createSmtpPool({ maxConnections: 2 });
    try {
      expect(await send(pool, smtp, ["john@acme.com"], "old-password")).toEqual({ kind: "permanent", error: expect.stringContaining("Authentication credentials invalid") });
      expect(await send(pool, smtp, ["john@acme.com"])).toMatchObject({ kind: "sent" });
      expect(smtp.logins).toEqual([USER, USER]);
      expect(smtp.received).toHaveLength(1);
    } finally {
      pool.close();
    }
  });
});

describe("classifySmtpError", () => {
  it("When the server answered 5xx, then it is permanent; 4xx and no answer are transient", () => {
    expect(classifySmtpError(Object.assign(new Error("x"), { responseCode: 550, response: "550 5.1.1 unknown" }))).toEqual({ kind: "permanent", error: "550 5.1.1 unknown" });
    expect(classifySmtpError(Object.assign(new Error("x"), { responseCode: 421, response: "421 try later" }))).toEqual({ kind: "transient", error: "421 try later" });
    expect(classifySmtpError(Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:25"), { code: "ESOCKET" }))).toEqual({
      kind: "transient",
      error: "connect ECONNREFUSED 127.0.0.1:25",
    });
  });
});
