// "Test Connection" against a real Dovecot and against loopback ports that misbehave: every
// outcome is a value with a stable code and a sentence that says what to fix.
import net from "node:net";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { ImapConfig } from "../../../src/sources/source-config.ts";
import { testImapConnection } from "../../../src/sources/imap/test-connection.ts";
import { describeWithDovecot } from "../../fakes/dovecot/describe-with-dovecot.ts";
import { freePort, startDovecot, type DovecotServer } from "../../fakes/dovecot/dovecot-server.ts";
import { createTestContext, type TestContext } from "../../helpers/test-context.ts";
import type { MailboxUser } from "./imap-fixture.ts";

describeWithDovecot("IMAP Test Connection", () => {
  let dovecot: DovecotServer;
  let t: TestContext;
  let account: MailboxUser;

  beforeAll(async () => {
    dovecot = await startDovecot();
    t = await createTestContext();
    account = dovecot.takeAccount();
  });
  afterAll(async () => {
    await t?.close();
    await dovecot?.stop();
  });

  const sourceWith = (overrides: Partial<ImapConfig> = {}, password = account.password) => ({
    config: {
      host: "127.0.0.1",
      port: dovecot.port,
      security: "none",
      user: account.user,
      folder: "INBOX",
      postProcess: { action: "none" },
      ...overrides,
    } satisfies ImapConfig,
    secrets: t.ctx.secrets.sealJson({ password }),
  });

  it("When the settings are right, then it answers ok with the capabilities, the folder and its message count", async () => {
    const mail = await dovecot.connect(account.user, account.password);
    await mail.append("INBOX", "Subject: one\r\n\r\nbody\r\n");
    await mail.logout();
    const result = await testImapConnection(t.ctx, sourceWith());
    expect(result).toEqual({ ok: true, details: { capabilities: expect.arrayContaining(["IDLE", "UIDPLUS"]), messageCount: 1, folder: "INBOX" } });
  });

  it("When the password is wrong, then it answers auth with the server's words", async () => {
    const result = await testImapConnection(t.ctx, sourceWith({}, "wrong"));
    expect(result).toEqual({
      ok: false,
      error: {
        code: "auth",
        message: `IMAP login failed for user ${account.user}: the server said "Authentication failed."; check the password or use an app-specific password.`,
      },
    });
  });

  it("When the folder does not exist, then it answers missing_folder naming it", async () => {
    const result = await testImapConnection(t.ctx, sourceWith({ folder: "Helpdesk" }));
    expect(result).toMatchObject({ ok: false, error: { code: "missing_folder" } });
    expect(!result.ok && result.error.message).toContain('"Helpdesk"');
  });

  it("When nothing listens on the port, then it answers refused", async () => {
    const result = await testImapConnection(t.ctx, sourceWith({ port: await freePort() }));
    expect(result).toMatchObject({ ok: false, error: { code: "refused" } });
  });

  it("When SSL is chosen for a port that speaks plain IMAP, then it answers tls", async () => {
    const result = await testImapConnection(t.ctx, sourceWith({ security: "ssl" }));
    expect(result).toMatchObject({ ok: false, error: { code: "tls" } });
  });

  it("When the server accepts but never greets, then it answers timeout within the budget", async () => {
    const silent = net.createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    try {
      const started = Date.now();
      const result = await testImapConnection(t.ctx, sourceWith({ port: (silent.address() as net.AddressInfo).port }), { timeoutMs: 500 });
      expect(result).toMatchObject({ ok: false, error: { code: "timeout" } });
      expect(Date.now() - started).toBeLessThan(3_000);
    } finally {
      silent.close();
    }
  });

  it("When an administrator clicks Test Connection, then POST /api/sources/:id/test answers with the same result", async () => {
    const created = await t.api
      .post("/api/sources")
      .send({
        kind: "imap",
        name: "Support inbox",
        address: account.user,
        role: "system",
        imap: { host: "127.0.0.1", port: dovecot.port, security: "none", user: account.user, password: account.password },
      })
      .expect(201);
    const res = await t.api.post(`/api/sources/${created.body.id}/test`).expect(200);
    expect(res.body).toMatchObject({ ok: true, details: { folder: "INBOX", messageCount: expect.any(Number) } });
  });
});
