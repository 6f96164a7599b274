// The IMAP source when the server misbehaves: it crashes mid-stream, or its folder is recreated
// with new UIDs. Nothing may be lost and nothing may become two tickets.
import { afterAll, beforeAll, expect, it } from "vitest";
import { and, eq, sql } from "drizzle-orm";
import { events, tickets } from "../../../src/db/schema.ts";
import { imapSourceOf } from "../../../src/sources/imap/imap-source.ts";
import { startImapSupervisor, type ImapSupervisor } from "../../../src/sources/imap/imap-supervisor.ts";
import { describeWithDovecot } from "../../fakes/dovecot/describe-with-dovecot.ts";
import { startDovecot, type DovecotServer } from "../../fakes/dovecot/dovecot-server.ts";
import { createTestContext, type TestContext } from "../../helpers/test-context.ts";
import { buildEmail } from "../../helpers/build-email.ts";
import { inboundOf, insertAcme, insertImapSource, loadPipelineWorkers, messageIdOf, newMailboxUser, sourceRow, TEST_BACKOFF, waitFor } from "./imap-fixture.ts";

describeWithDovecot("IMAP reconnect and UIDVALIDITY", () => {
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

  const supervise = async (sourceId: string, safetyNetMs?: number) => {
    const s = startImapSupervisor(t.ctx, imapSourceOf(t.ctx, await sourceRow(t.ctx, sourceId)), { backoff: TEST_BACKOFF, safetyNetMs });
    supervisors.push(s);
    return s;
  };
  const ticketCount = async (sourceId: string) =>
    Number((await t.ctx.db.select({ n: sql<number>`count(*)` }).from(tickets).where(eq(tickets.sourceId, sourceId)))[0]!.n);

  it("When Dovecot is killed and restarted mid-stream, then every acknowledged message is ingested and none twice", async () => {
    const account = newMailboxUser(dovecot);
    const sourceId = await insertImapSource(t.ctx, dovecot, account);
    await supervise(sourceId);
    await waitFor("the source to connect", async () => (await sourceRow(t.ctx, sourceId)).status === "connected");

    const acknowledged = new Set<string>();
    const appendSome = async (from: number, to: number) => {
      const mail = await dovecot.connect(account.user, account.password);
      for (let i = from; i < to; i++) {
        const messageId = `<crash-${i}@acme.com>`;
        await mail.append("INBOX", buildEmail({ subject: `Stream ${i}`, messageId }));
        acknowledged.add(messageId);
      }
      await mail.logout();
    };
    await appendSome(0, 40);
    // The server dies right after the burst, while the supervisor may still be fetching it.
    await dovecot.kill();
    await new Promise((r) => setTimeout(r, 300));
    await dovecot.restart();
    await appendSome(40, 80);

    const rows = await waitFor("80 inbound messages", async () => {
      const r = await inboundOf(t.ctx, sourceId);
      return r.length >= 80 && r;
    }, 30_000);
    const ids = rows.map((r) => messageIdOf(r.raw));
    expect(new Set(ids)).toEqual(acknowledged);
    expect(new Set(rows.map((r) => r.providerMessageId)).size).toBe(rows.length);
    expect(rows).toHaveLength(80);
    await waitFor("the source to be connected again", async () => (await sourceRow(t.ctx, sourceId)).status === "connected");
    const failed = await t.ctx.db.select().from(events).where(and(eq(events.type, "source.failed"), sql`${events.payload}->'data'->'source'->>'id' = ${sourceId}`));
    expect(failed).toHaveLength(0);
    if (pipeline) await waitFor("80 tickets", async () => (await ticketCount(sourceId)) === 80, 60_000);
  });

  it("When the folder is recreated with a new UIDVALIDITY, then it is rescanned and the same emails make no second ticket", async () => {
    const account = newMailboxUser(dovecot);
    let admin = await dovecot.connect(account.user, account.password);
    // The administrator's session can be refused, or left believing the folder "was deleted under
    // us" (Dovecot: "IMAP session state is inconsistent, please relogin"), while mailgate's session
    // works in the same folder (seen as a bare "Command failed" in CI, 1 run in 6 on Postgres).
    // Like a mail client, it logs in again and retries; if Dovecot keeps refusing, the error says
    // what it answered, with its log.
    const asAdmin = async <T,>(what: string, command: () => Promise<T>): Promise<T> => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await command();
        } catch (err) {
          const e = err as { responseText?: string; serverResponseCode?: string };
          if (attempt >= 10) throw new Error(`${what} failed ${attempt} times: ${e.serverResponseCode ?? ""} ${e.responseText ?? String(err)}\n${dovecot.log()}`);
          await admin.logout().catch(() => undefined);
          await new Promise((r) => setTimeout(r, 200));
          admin = await dovecot.connect(account.user, account.password);
        }
      }
    };
    // Retried after a refusal the server may have carried out after all: done is done.
    const answered = (code: string) => (err: { serverResponseCode?: string }) => {
      if (err.serverResponseCode !== code) throw err;
    };
    const deleteFolder = () => asAdmin("DELETE Support", () => admin.mailboxDelete("Support").catch(answered("NONEXISTENT")));
    const createFolder = () => asAdmin("CREATE Support", () => admin.mailboxCreate("Support").catch(answered("ALREADYEXISTS")));
    await createFolder();
    const sourceId = await insertImapSource(t.ctx, dovecot, account, { folder: "Support" });
    // Dovecot may not tell an IDLE client that its folder was recreated; the safety-net sync
    // (every 5 minutes in production) re-selects it and finds the new UIDVALIDITY.
    await supervise(sourceId, 1_000);
    const emails = ["a", "b", "c"].map((x) => buildEmail({ subject: `Ticket ${x}`, messageId: `<uidv-${x}@acme.com>` }));
    for (const raw of emails) await asAdmin("APPEND", () => admin.append("Support", raw));
    // The sync stores a batch, then moves the cursor: wait for both (read between the two, the
    // cursor was still null: seen once in CI).
    const before = await waitFor("3 inbound messages and the cursor after them", async () => {
      const stored = (await inboundOf(t.ctx, sourceId)).length === 3;
      const cursor = (await sourceRow(t.ctx, sourceId)).cursor as { uidValidity: string; lastUid: number } | null;
      return stored && cursor !== null && cursor.lastUid >= 3 && cursor;
    });
    if (pipeline) await waitFor("3 tickets", async () => (await ticketCount(sourceId)) === 3);

    await deleteFolder();
    // Dovecot's UIDVALIDITY is a timestamp in seconds: a folder recreated within the same second as
    // the first one gets the same value, and then nothing was reset. Recreate until it differs.
    for (let tries = 0; ; tries++) {
      await createFolder();
      const status = await asAdmin("STATUS", () => admin.status("Support", { uidValidity: true }));
      if ((status && String(status.uidValidity) !== before.uidValidity) || tries >= 5) break;
      await deleteFolder();
      await new Promise((r) => setTimeout(r, 1100));
    }
    for (const raw of emails) await asAdmin("APPEND", () => admin.append("Support", raw));
    await asAdmin("APPEND", () => admin.append("Support", buildEmail({ subject: "Ticket d", messageId: "<uidv-d@acme.com>" })));
    // A recreated folder need not number from 1: Dovecot may carry UIDNEXT over (seen under load).
    const folder = await asAdmin("STATUS", () => admin.status("Support", { uidNext: true, messages: true }));
    if (!folder || folder.messages !== 4) throw new Error("the recreated folder should hold the 4 appended emails");
    const lastUidOnServer = Number(folder.uidNext) - 1;
    await admin.logout();

    // The sync stores a batch, then moves the cursor: wait for both (read between the two, the
    // cursor was still the old folder's).
    const rows = await waitFor("the rescan", async () => {
      const r = await inboundOf(t.ctx, sourceId);
      const cursor = (await sourceRow(t.ctx, sourceId)).cursor as { uidValidity: string } | null;
      return r.length >= 7 && cursor?.uidValidity !== before.uidValidity && r;
    }, 30_000);
    const after = (await sourceRow(t.ctx, sourceId)).cursor as { uidValidity: string; lastUid: number };
    expect(after.uidValidity).not.toBe(before.uidValidity);
    expect(after.lastUid).toBe(lastUidOnServer);
    expect(rows.filter((r) => r.providerMessageId.startsWith(`${after.uidValidity}:`))).toHaveLength(4);
    if (pipeline) {
      await waitFor("every copy to be processed", async () => (await inboundOf(t.ctx, sourceId)).every((r) => r.status !== "received"));
      expect(await ticketCount(sourceId)).toBe(4);
      const statuses = (await inboundOf(t.ctx, sourceId)).map((r) => r.status).sort();
      expect(statuses.filter((s) => s === "duplicate")).toHaveLength(3);
    }
  });
});
