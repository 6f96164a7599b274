// The IMAP source against a real Dovecot: what is appended to the folder is stored once, whole,
// whether mailgate was listening, stopped, or asked to "Process Now".
import { createHash } from "node:crypto";
import { afterAll, beforeAll, expect, it } from "vitest";
import { eq, sql } from "drizzle-orm";
import { mailSources, tickets } from "../../../src/db/schema.ts";
import { imapSourceOf } from "../../../src/sources/imap/imap-source.ts";
import { startImapSources } from "../../../src/sources/imap/imap-sources.ts";
import { startImapSupervisor, type ImapSupervisor } from "../../../src/sources/imap/imap-supervisor.ts";
import { describeWithDovecot } from "../../fakes/dovecot/describe-with-dovecot.ts";
import { startDovecot, type DovecotServer } from "../../fakes/dovecot/dovecot-server.ts";
import { createTestContext, type TestContext } from "../../helpers/test-context.ts";
import { buildEmail } from "../../helpers/build-email.ts";
import { inboundOf, insertAcme, insertImapSource, loadPipelineWorkers, newMailboxUser, sourceRow, waitFor } from "./imap-fixture.ts";

describeWithDovecot("IMAP ingest", () => {
  let dovecot: DovecotServer;
  let t: TestContext;
  let pipeline: { stop(): Promise<void> } | null = null;
  const supervisors: ImapSupervisor[] = [];

  beforeAll(async () => {
    dovecot = await startDovecot();
    t = await createTestContext();
    await insertAcme(t.ctx);
    const start = await loadPipelineWorkers();
    pipeline = start ? start(t.ctx, { pollMs: 100 }) : null;
  });
  afterAll(async () => {
    await Promise.all(supervisors.map((s) => s.stop()));
    await pipeline?.stop();
    await t?.close();
    await dovecot?.stop();
  });

  const supervise = async (sourceId: string) => {
    const s = startImapSupervisor(t.ctx, imapSourceOf(t.ctx, await sourceRow(t.ctx, sourceId)));
    supervisors.push(s);
    return s;
  };
  const ticketCount = async (sourceId: string) =>
    Number((await t.ctx.db.select({ n: sql<number>`count(*)` }).from(tickets).where(eq(tickets.sourceId, sourceId)))[0]!.n);

  it("When a message is appended to INBOX, then it is stored as an inbound message under uidValidity:uid and becomes a ticket", async () => {
    const account = newMailboxUser(dovecot);
    const sourceId = await insertImapSource(t.ctx, dovecot, account);
    await supervise(sourceId);
    await waitFor("the source to connect", async () => (await sourceRow(t.ctx, sourceId)).status === "connected");

    const mail = await dovecot.connect(account.user, account.password);
    const appended = await mail.append("INBOX", buildEmail({ subject: "Printer on fire" }));
    await mail.logout();

    const [row] = await waitFor("the inbound message", async () => {
      const rows = await inboundOf(t.ctx, sourceId);
      return rows.length > 0 && rows;
    });
    expect(row!.providerMessageId).toBe(`${appended && appended.uidValidity}:${appended && appended.uid}`);
    // The cursor moves after the message is stored (never before), so it may follow a moment later.
    const cursor = { uidValidity: String(appended && appended.uidValidity), lastUid: 1 };
    await waitFor("the cursor past the message", async () => ((await sourceRow(t.ctx, sourceId)).cursor as { lastUid?: number } | null)?.lastUid === 1);
    expect((await sourceRow(t.ctx, sourceId)).cursor).toEqual(cursor);
    if (pipeline) await waitFor("the ticket", async () => (await ticketCount(sourceId)) === 1);
  });

  it("When 200 messages arrive while mailgate is stopped, then each is ingested exactly once after it starts", async () => {
    const account = newMailboxUser(dovecot);
    const sourceId = await insertImapSource(t.ctx, dovecot, account);
    const first = await supervise(sourceId);
    await waitFor("the first sync to set the cursor", async () => (await sourceRow(t.ctx, sourceId)).cursor !== null);
    await first.stop();

    const mail = await dovecot.connect(account.user, account.password);
    for (let i = 0; i < 200; i++) await mail.append("INBOX", buildEmail({ subject: `Backlog ${i}` }));
    await mail.logout();
    expect(await inboundOf(t.ctx, sourceId)).toHaveLength(0);

    await supervise(sourceId);
    const rows = await waitFor("200 inbound messages", async () => {
      const r = await inboundOf(t.ctx, sourceId);
      return r.length >= 200 && r;
    });
    await new Promise((r) => setTimeout(r, 300)); // nothing more may trickle in
    expect(await inboundOf(t.ctx, sourceId)).toHaveLength(200);
    expect(new Set(rows.map((r) => r.providerMessageId)).size).toBe(200);
    expect(((await sourceRow(t.ctx, sourceId)).cursor as { lastUid: number }).lastUid).toBe(200);
    if (pipeline) await waitFor("200 tickets", async () => (await ticketCount(sourceId)) === 200, 60_000);
  });

  it("When a message carries a 10 MB attachment, then the stored raw bytes are exactly what was appended", async () => {
    const account = newMailboxUser(dovecot);
    const sourceId = await insertImapSource(t.ctx, dovecot, account);
    await supervise(sourceId);
    const raw = buildEmail({ subject: "Big scan", attachments: [{ filename: "scan.pdf", content: Buffer.alloc(10 * 1024 * 1024, 7), contentType: "application/pdf" }] });

    const mail = await dovecot.connect(account.user, account.password);
    await mail.append("INBOX", raw);
    await mail.logout();

    const [row] = await waitFor("the big message", async () => {
      const rows = await inboundOf(t.ctx, sourceId);
      return rows.length > 0 && rows;
    }, 30_000);
    const expected = createHash("sha256").update(raw).digest("hex");
    expect(row!.rawSha256).toBe(expected);
    expect(createHash("sha256").update(row!.raw!).digest("hex")).toBe(expected);
  });

  it("When a manual source gets Process Now, then it syncs once and the request is cleared", async () => {
    const account = newMailboxUser(dovecot);
    const sourceId = await insertImapSource(t.ctx, dovecot, account, { schedule: { mode: "manual" } });
    const sources = startImapSources(t.ctx);
    try {
      const mail = await dovecot.connect(account.user, account.password);
      await mail.append("INBOX", buildEmail({ subject: "Only when asked" }));
      await mail.logout();
      await sources.refresh();
      await new Promise((r) => setTimeout(r, 500));
      expect(await inboundOf(t.ctx, sourceId)).toHaveLength(0);

      await t.ctx.db.update(mailSources).set({ syncRequestedAt: new Date() }).where(eq(mailSources.id, sourceId));
      t.ctx.database.wake("sources");
      await waitFor("the requested sync", async () => (await inboundOf(t.ctx, sourceId)).length === 1);
      await waitFor("the request to be cleared", async () => (await sourceRow(t.ctx, sourceId)).syncRequestedAt === null);
      expect((await sourceRow(t.ctx, sourceId)).lastSyncAt).not.toBeNull();
    } finally {
      await sources.stop();
    }
  });

  it("When an IMAP source is created or deleted while mailgate runs, then its supervisor starts or stops on wake", async () => {
    const sources = startImapSources(t.ctx);
    try {
      const account = newMailboxUser(dovecot);
      const sourceId = await insertImapSource(t.ctx, dovecot, account);
      t.ctx.database.wake("sources");
      await waitFor("the new source to connect", async () => (await sourceRow(t.ctx, sourceId)).status === "connected");

      await t.ctx.db.delete(mailSources).where(eq(mailSources.id, sourceId));
      t.ctx.database.wake("sources");
      await sources.refresh();
      const mail = await dovecot.connect(account.user, account.password);
      await mail.append("INBOX", buildEmail({ subject: "Nobody listens" }));
      await mail.logout();
      await new Promise((r) => setTimeout(r, 1_000));
      expect(await inboundOf(t.ctx, sourceId)).toHaveLength(0);
    } finally {
      await sources.stop();
    }
  });
});
