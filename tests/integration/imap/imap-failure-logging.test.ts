// A source that keeps failing (the quick start's placeholder password, a server that is down)
// must not flood the log: one concise line when its state changes, at most one per retry, and
// the stack only at debug level.
import { Writable } from "node:stream";
import { afterAll, beforeAll, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { mailSources } from "../../../src/db/schema.ts";
import { createLogger } from "../../../src/log.ts";
import type { ImapConfig } from "../../../src/sources/source-config.ts";
import { startImapSources, type ImapSources } from "../../../src/sources/imap/imap-sources.ts";
import { describeWithDovecot } from "../../fakes/dovecot/describe-with-dovecot.ts";
import { freePort, startDovecot, type DovecotServer } from "../../fakes/dovecot/dovecot-server.ts";
import { createTestContext, type TestContext } from "../../helpers/test-context.ts";
import { insertImapSource, newMailboxUser, TEST_BACKOFF, waitFor } from "./imap-fixture.ts";

type Line = { level: number; msg: string; sourceId?: string; component?: string; err?: { stack?: string }; [key: string]: unknown };

describeWithDovecot("IMAP failure logging", () => {
  let dovecot: DovecotServer;
  let t: TestContext;
  let sources: ImapSources | undefined;
  const lines: Line[] = [];

  beforeAll(async () => {
    dovecot = await startDovecot();
    t = await createTestContext();
    const stream = new Writable({ write: (chunk, _enc, done) => (lines.push(JSON.parse(String(chunk)) as Line), done()) });
    t.ctx.log = createLogger("debug", stream, "json");
  });
  afterAll(async () => {
    await sources?.stop();
    await t?.close();
    await dovecot?.stop();
  });

  const of = (sourceId: string) => lines.filter((l) => l.sourceId === sourceId);
  const shown = (sourceId: string) => of(sourceId).filter((l) => l.level >= 30);
  const failedAttempts = (sourceId: string) => of(sourceId).filter((l) => l.level === 20 && l.err !== undefined && /attempt failed/.test(l.msg)).length;

  function expectQuiet(sourceId: string) {
    const attempts = failedAttempts(sourceId);
    const visible = shown(sourceId);
    // One line for the change of state, then at most one per retry.
    expect(visible.length).toBeLessThanOrEqual(attempts + 1);
    expect(visible.filter((l) => l.level >= 50)).toEqual([]);
    for (const line of visible) {
      expect(line.err).toBeUndefined();
      expect(JSON.stringify(line)).not.toMatch(/\n\s+at /);
    }
    // The stack is still there for whoever turns on debug.
    expect(of(sourceId).some((l) => l.level === 20 && typeof l.err?.stack === "string")).toBe(true);
    return visible;
  }

  it("When the password is wrong, then each retry logs at most one concise line, the change to error one warning, and the stack only at debug", async () => {
    const account = newMailboxUser(dovecot);
    const sourceId = await insertImapSource(t.ctx, dovecot, account, { password: "app-specific-password" });
    sources = startImapSources(t.ctx, { supervisor: { backoff: TEST_BACKOFF } });
    await waitFor("six failed logins", async () => (dovecot.log().match(/auth failed/g) ?? []).length >= 6 && failedAttempts(sourceId) >= 6);

    const visible = expectQuiet(sourceId);
    const warnings = visible.filter((l) => l.level === 40);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.msg).toContain("IMAP login failed");
  });

  it("When the server's port is closed, then the source logs one warning when it starts failing and one line per retry at most", async () => {
    const account = newMailboxUser(dovecot);
    const sourceId = await insertImapSource(t.ctx, dovecot, account);
    const closed = await freePort();
    const [row] = await t.ctx.db.select().from(mailSources).where(eq(mailSources.id, sourceId));
    await t.ctx.db.update(mailSources).set({ config: { ...(row!.config as ImapConfig), host: "127.0.0.1", port: closed } }).where(eq(mailSources.id, sourceId));
    await sources?.stop();
    sources = startImapSources(t.ctx, { supervisor: { backoff: TEST_BACKOFF } });
    await waitFor("six failed connections", async () => failedAttempts(sourceId) >= 6);

    const visible = expectQuiet(sourceId);
    expect(visible.filter((l) => l.level === 40)).toHaveLength(1);
  });
});
