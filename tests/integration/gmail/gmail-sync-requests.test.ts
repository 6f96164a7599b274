// The sync requests of several mailboxes are claimed and finished together: one statement each
// for all of them, with each request's own outcome (sync-requests.ts).
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { queryRows, sql } from "../../../src/db/client.ts";
import { mailSources } from "../../../src/db/schema.ts";
import { claimGmailSyncs, finishGmailSyncs, requestGmailSync, requestGmailSyncForMailboxes } from "../../../src/sources/gmail/sync-requests.ts";
import { createTestContext, type TestContext } from "../../helpers/test-context.ts";

let t: TestContext;
let sources: string[];
const t0 = new Date("2026-12-07T08:00:00Z");

beforeEach(async () => {
  t = await createTestContext();
  const rows = await t.ctx.db
    .insert(mailSources)
    .values(["a", "b", "c"].map((n) => ({ kind: "gmail" as const, name: n, address: `${n}@mailgate.test`, role: "support" as const, status: "connected" as const })))
    .returning({ id: mailSources.id });
  sources = rows.map((r) => r.id);
  // Asked a millisecond apart, oldest first.
  for (const [i, sourceId] of sources.entries()) await requestGmailSync(t.ctx.db, { sourceId, historyId: 100n + BigInt(i), now: new Date(t0.getTime() - 3 + i) });
});
afterEach(async () => t.close());

const requests = () =>
  queryRows<{ source_id: string; next_attempt_at: Date | string; attempts: number }>(t.ctx.db, sql`select source_id, next_attempt_at, attempts from sync_requests`);
const cursors = async () =>
  new Map((await queryRows<{ id: string; cursor: { historyId: string } | null }>(t.ctx.db, sql`select id, cursor from mail_sources`)).map((r) => [r.id, r.cursor]));

describe("Gmail sync requests, several mailboxes at once", () => {
  it("When three mailboxes wait and a claim takes two, then it leases the two oldest and says another is due; the next takes the third and says none is", async () => {
    const first = await claimGmailSyncs(t.ctx.db, t0, 2);
    expect(first.claims.map((c) => c.sourceId)).toEqual(sources.slice(0, 2));
    expect(first.claims.map((c) => c.attempts)).toEqual([1, 1]);
    expect(first.moreDue).toBe(true);
    const second = await claimGmailSyncs(t.ctx.db, new Date(t0.getTime() + 10), 2);
    expect(second.claims.map((c) => c.sourceId)).toEqual([sources[2]]);
    expect(second.moreDue).toBe(false);
    expect((await claimGmailSyncs(t.ctx.db, new Date(t0.getTime() + 20), 2)).claims).toEqual([]);
  });

  it("When syncs finish together, then each cursor moves to where its own sync got, and a request a notification changed meanwhile stays, due again at once", async () => {
    const { claims } = await claimGmailSyncs(t.ctx.db, t0, 3);
    // A notification for the second mailbox arrives while its sync runs.
    await requestGmailSync(t.ctx.db, { sourceId: sources[1]!, historyId: 500n, now: t0 });
    const done = new Date(t0.getTime() + 5000);
    const removed = await finishGmailSyncs(
      t.ctx.db,
      [
        { claim: claims[0]!, historyId: "200" },
        { claim: claims[1]!, historyId: "201" },
        // Nothing to read: its cursor stays where it was.
        { claim: claims[2]!, historyId: null },
      ],
      done,
    );
    expect(removed).toEqual([true, false, true]);
    const left = await requests();
    expect(left.map((r) => r.source_id)).toEqual([sources[1]]);
    expect(new Date(left[0]!.next_attempt_at).getTime()).toBe(done.getTime());
    expect(left[0]!.attempts).toBe(0);
    const moved = await cursors();
    expect([moved.get(sources[0]!), moved.get(sources[1]!), moved.get(sources[2]!)]).toEqual([{ historyId: "200" }, { historyId: "201" }, null]);
  });

  it("When notifications of several mailboxes are recorded together, then two of one mailbox fold into its request with the larger historyId, and a mailbox no source reads is not answered as read", async () => {
    const read = await requestGmailSyncForMailboxes(
      t.ctx.db,
      [
        { emailAddress: "a@mailgate.test", historyId: 900n },
        { emailAddress: "nobody@mailgate.test", historyId: 5n },
        { emailAddress: "a@mailgate.test", historyId: 700n },
        { emailAddress: "b@mailgate.test", historyId: 50n },
      ],
      t0,
    );
    expect([...read].sort()).toEqual(["a@mailgate.test", "b@mailgate.test"]);
    const payloads = new Map(
      (await queryRows<{ source_id: string; payload: { historyId: string } }>(t.ctx.db, sql`select source_id, payload from sync_requests`)).map((r) => [
        r.source_id,
        r.payload.historyId,
      ]),
    );
    // Folded into the requests already waiting (asked at 100, 101, 102): the larger historyId wins.
    expect([payloads.get(sources[0]!), payloads.get(sources[1]!), payloads.get(sources[2]!)]).toEqual(["900", "101", "102"]);
  });
});
