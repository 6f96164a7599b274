// Test Connection of sources with an SMTP block, through POST /api/sources/:id/test: the SMTP login
// against smtp-server on loopback (STARTTLS on the fakes' certificate, trusted through
// SMTP_CA_FILE), the IMAP half against a real Dovecot, each half's result told apart.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildContext } from "../../../src/boot.ts";
import { parseConfig } from "../../../src/config.ts";
import { testSmtpConnection } from "../../../src/sources/imap/test-smtp-connection.ts";
import { describeWithDovecot } from "../../fakes/dovecot/describe-with-dovecot.ts";
import { startDovecot, type DovecotServer, type TestAccount } from "../../fakes/dovecot/dovecot-server.ts";
import { testCertificateFile } from "../../fakes/microsoft/test-certificate.ts";
import { startFakeSmtp, type FakeSmtp } from "../../fakes/smtp/smtp-server.ts";
import { createTestContext, type TestContext } from "../../helpers/test-context.ts";

let t: TestContext;
let smtp: FakeSmtp;
beforeAll(async () => {
  [t, smtp] = await Promise.all([createTestContext({ env: { SMTP_CA_FILE: testCertificateFile } }), startFakeSmtp()]);
});
afterAll(async () => {
  await Promise.all([t?.close(), smtp?.close()]);
});

const smtpBlock = (password = smtp.password) => ({ host: smtp.host, port: smtp.port, security: "starttls", user: smtp.user, password });

async function testOf(body: Record<string, unknown>) {
  const created = await t.api.post("/api/sources").send(body);
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return (await t.api.post(`/api/sources/${created.body.id}/test`).expect(200)).body;
}

const apiSource = (smtpPassword?: string) => ({ kind: "api", name: "Scripts", address: "support@msp.example", role: "system", smtp: smtpBlock(smtpPassword) });

describe("Test Connection of an api source with an SMTP block", () => {
  it("When the SMTP login works, then it answers ok with the SMTP server it logged in to", async () => {
    const result = await testOf(apiSource());
    const smtpDetails = { server: `127.0.0.1:${smtp.port}`, security: "starttls", user: smtp.user };
    expect(result).toEqual({ ok: true, details: { kind: "api", smtp: smtpDetails }, checks: { smtp: { ok: true, details: smtpDetails } } });
    expect(smtp.logins).toContain(smtp.user);
  });

  it("When the SMTP password is wrong, then it answers auth with the server's words, as the SMTP check", async () => {
    const result = await testOf(apiSource("wrong"));
    const error = {
      code: "auth",
      message: `SMTP login failed for user ${smtp.user} on 127.0.0.1:${smtp.port}: the server said "535 5.7.8 Authentication credentials invalid"; check the user and password, or use an app-specific password.`,
    };
    expect(result).toEqual({ ok: false, error, checks: { smtp: { ok: false, error } } });
  });

  it("When the source has no SMTP block, then the answer is what it always was", async () => {
    expect(await testOf({ kind: "api", name: "Plain", address: "plain@msp.example", role: "system" })).toEqual({ ok: true, details: { kind: "api" } });
  });
});

describe("the SMTP login test on its own", () => {
  const settings = () => ({ config: { host: smtp.host, port: smtp.port, security: "starttls" as const, user: smtp.user }, password: smtp.password });

  it("When the server's certificate is not trusted, then it answers tls and no password is sent", async () => {
    const before = smtp.logins.length;
    const result = await testSmtpConnection(settings());
    expect(result).toMatchObject({ ok: false, error: { code: "tls", message: expect.stringContaining("certificate") } });
    expect(smtp.logins).toHaveLength(before);
  });

  it("When the server does not offer STARTTLS, then it answers tls and no password is sent", async () => {
    const plain = await startFakeSmtp({ overrides: { disabledCommands: ["STARTTLS"], allowInsecureAuth: true } });
    try {
      const result = await testSmtpConnection({ ...settings(), config: { ...settings().config, port: plain.port } });
      expect(result).toMatchObject({ ok: false, error: { code: "tls", message: expect.stringContaining("did not accept STARTTLS") } });
      expect(plain.logins).toEqual([]);
    } finally {
      await plain.close();
    }
  });

  it("When nothing listens on the port, then it answers refused", async () => {
    const closed = await startFakeSmtp();
    await closed.close();
    const result = await testSmtpConnection({ ...settings(), config: { ...settings().config, port: closed.port } });
    expect(result).toMatchObject({ ok: false, error: { code: "refused" } });
  });
});

describe("SMTP_CA_FILE", () => {
  it("When it names a file that cannot be read or holds no certificate, then the start stops naming the variable", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "mailgate-smtp-ca-"));
    try {
      const boot = (file: string) => buildContext(parseConfig({ DATA_DIR: dir, LOG_LEVEL: "silent", SMTP_CA_FILE: file }), { inMemory: true });
      await expect(boot(path.join(dir, "missing.pem"))).rejects.toThrow(/^SMTP_CA_FILE: cannot read .*missing\.pem/);
      writeFileSync(path.join(dir, "empty.pem"), "not a certificate\n");
      await expect(boot(path.join(dir, "empty.pem"))).rejects.toThrow(/^SMTP_CA_FILE: .*empty\.pem holds no PEM certificate/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describeWithDovecot("Test Connection of an IMAP source with an SMTP block", () => {
  let dovecot: DovecotServer;
  let account: TestAccount;
  beforeAll(async () => {
    dovecot = await startDovecot({ accounts: 2 });
    account = dovecot.takeAccount();
  });
  afterAll(async () => dovecot?.stop());

  const imapSource = (imapPassword: string, smtpPassword?: string) => ({
    kind: "imap",
    name: "Support inbox",
    address: account.user,
    role: "system",
    imap: { host: "127.0.0.1", port: dovecot.port, security: "none", user: account.user, password: imapPassword },
    smtp: smtpBlock(smtpPassword),
  });

  it("When IMAP works and the SMTP login is refused, then the SMTP half says so and the IMAP half is ok", async () => {
    const result = await testOf(imapSource(account.password, "wrong"));
    expect(result).toMatchObject({
      ok: false,
      error: { code: "auth", message: expect.stringMatching(/^SMTP login failed/) },
      checks: { imap: { ok: true, details: { folder: "INBOX" } }, smtp: { ok: false, error: { code: "auth" } } },
    });
  });

  it("When the IMAP login is refused and SMTP works, then the answer is the IMAP failure and the SMTP half is ok", async () => {
    const result = await testOf(imapSource("wrong"));
    expect(result).toMatchObject({
      ok: false,
      error: { code: "auth", message: expect.stringMatching(/^IMAP login failed/) },
      checks: { imap: { ok: false, error: { code: "auth" } }, smtp: { ok: true } },
    });
  });

  it("When both work, then it answers ok with the folder's count and the SMTP server", async () => {
    const result = await testOf(imapSource(account.password));
    expect(result).toMatchObject({
      ok: true,
      details: { folder: "INBOX", messageCount: 0, smtp: { server: `127.0.0.1:${smtp.port}` } },
      checks: { imap: { ok: true }, smtp: { ok: true } },
    });
  });
});
