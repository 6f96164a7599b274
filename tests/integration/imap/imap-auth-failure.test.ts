// A wrong password: the source says so in plain words, announces it once however often it
// retries, and announces its recovery once the password is fixed.
import { afterAll, beforeAll, expect, it } from "vitest";
import { and, eq, sql } from "drizzle-orm";
import { errorLog, events, mailSources } from "../../../src/db/schema.ts";
import { startImapSources, type ImapSources } from "../../../src/sources/imap/imap-sources.ts";
import { describeWithDovecot } from "../../fakes/dovecot/describe-with-dovecot.ts";
import { startDovecot, type DovecotServer } from "../../fakes/dovecot/dovecot-server.ts";
import { createTestContext, type TestContext } from "../../helpers/test-context.ts";
import { insertImapSource, newMailboxUser, type MailboxUser, sourceRow, TEST_BACKOFF, waitFor } from "./imap-fixture.ts";

describeWithDovecot("IMAP authentication failure", () => {
  let dovecot: DovecotServer;
  let t: TestContext;
  let sources: ImapSources | undefined;
  let wrong: { sourceId: string; account: MailboxUser } | undefined;

  beforeAll(async () => {
    dovecot = await startDovecot();
    t = await createTestContext();
  });
  afterAll(async () => {
    await sources?.stop();
    await t?.close();
    await dovecot?.stop();
  });

  const eventsOf = async (type: string, sourceId: string) =>
    t.ctx.db
      .select()
      .from(events)
      .where(and(eq(events.type, type), sql`${events.payload}->'data'->'source'->>'id' = ${sourceId}`));

  it("When the password is wrong, then the source is in error with the server's reason, and source.failed is emitted once despite retries", async () => {
    const account = newMailboxUser(dovecot);
    const sourceId = await insertImapSource(t.ctx, dovecot, account, { password: "not-the-password" });
    wrong = { sourceId, account };
    sources = startImapSources(t.ctx, { supervisor: { backoff: TEST_BACKOFF } });

    const row = await waitFor("status error", async () => {
      const r = await sourceRow(t.ctx, sourceId);
      return r.status === "error" && r;
    });
    expect(row.lastError).toBe(
      `IMAP login failed for user ${account.user}: the server said "Authentication failed."; check the password or use an app-specific password.`,
    );
    // Several more attempts (100-400 ms apart) fail the same way.
    await waitFor("more failed logins", async () => (dovecot.log().match(/auth failed/g) ?? []).length >= 4);

    const failed = await eventsOf("source.failed", sourceId);
    expect(failed).toHaveLength(1);
    expect((failed[0]!.payload as { data: unknown }).data).toEqual({
      source: { id: sourceId, name: "Support inbox", kind: "imap", address: account.user, status: "error" },
      error: { code: "auth", message: row.lastError },
      at: expect.any(String),
    });
    const logged = await t.ctx.db.select().from(errorLog).where(eq(errorLog.sourceId, sourceId));
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ kind: "connection_failed", message: row.lastError });
  });

  it("When the password is corrected, then the source connects, its error is cleared and source.recovered is emitted once", async () => {
    const { sourceId, account } = wrong!;
    await t.ctx.db.update(mailSources).set({ secrets: t.ctx.secrets.sealJson({ password: account.password }) }).where(eq(mailSources.id, sourceId));
    t.ctx.database.wake("sources");

    await waitFor("status connected", async () => (await sourceRow(t.ctx, sourceId)).status === "connected");
    expect((await sourceRow(t.ctx, sourceId)).lastError).toBeNull();
    expect(await eventsOf("source.recovered", sourceId)).toHaveLength(1);
    expect(await eventsOf("source.failed", sourceId)).toHaveLength(1);
  });

  it("When an administrator fixes the password through the API (the source shows connecting meanwhile), then source.recovered is emitted once", async () => {
    const account = newMailboxUser(dovecot);
    const sourceId = await insertImapSource(t.ctx, dovecot, account, { password: "wrong-again" });
    t.ctx.database.wake("sources");
    await waitFor("status error", async () => (await sourceRow(t.ctx, sourceId)).status === "error");

    const patched = await t.api.patch(`/api/sources/${sourceId}`).send({ imap: { password: account.password } }).expect(200);
    expect(patched.body.status).toBe("connecting");
    await waitFor("status connected", async () => (await sourceRow(t.ctx, sourceId)).status === "connected");
    expect(await eventsOf("source.failed", sourceId)).toHaveLength(1);
    expect(await eventsOf("source.recovered", sourceId)).toHaveLength(1);
    expect((await sourceRow(t.ctx, sourceId)).failingSince).toBeNull();
  });
});
