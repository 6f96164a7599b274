// The pipeline's claim reads what it takes, not the whole backlog, even when the table's
// statistics are stale (a burst or a backlog after downtime, before autovacuum analyses it).
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { claimDueInbound } from "../../../src/db/inbound-claims.ts";
import { queryRows, sql } from "../../../src/db/client.ts";
import { inboundMessages, mailSources } from "../../../src/db/schema.ts";
import { rowsRead } from "../../helpers/db-tables.ts";
import { createTestContext, type TestContext } from "../../helpers/test-context.ts";

let t: TestContext;
const BACKLOG = 5000;

beforeAll(async () => {
  t = await createTestContext();
  const [source] = await t.ctx.db
    .insert(mailSources)
    .values({ kind: "api", name: "claims", address: "claims@mailgate.test", role: "system", status: "connected" })
    .returning({ id: mailSources.id });
  const start = Date.now() - BACKLOG * 1000;
  // Mail-sized rows (the table spans hundreds of pages, as a real backlog does).
  const body = Buffer.from(randomBytes(3000).toString("base64"));
  for (let i = 0; i < BACKLOG; i += 500) {
    await t.ctx.db.insert(inboundMessages).values(
      Array.from({ length: 500 }, (_, j) => ({
        sourceId: source!.id,
        providerMessageId: `claim-${i + j}`,
        raw: Buffer.concat([Buffer.from(`Subject: ${i + j}\r\n\r\n`), body]),
        rawSize: 4096,
        rawSha256: "-",
        // Waiting in insertion order, oldest first; never analysed since.
        nextAttemptAt: new Date(start + (i + j) * 1000),
      })),
    );
  }
});
afterAll(async () => t.close());

describe("claiming waiting messages", () => {
  it("When 5,000 messages wait and the table was never analysed, then a claim of 32 takes the oldest 32 and reads about as many rows", async () => {
    await t.ctx.db.transaction(async (tx) => {
      const before = await rowsRead(tx, "inbound_messages");
      const claimed = await claimDueInbound(tx, new Date(), { limit: 32 });
      const read = (await rowsRead(tx, "inbound_messages")) - before;
      expect(claimed.found).toBe(32);
      expect(claimed.rows.map((c) => c.raw?.toString().split("\r\n")[0])).toEqual(Array.from({ length: 32 }, (_, i) => `Subject: ${i}`));
      // Without the index order it fetched, joined and sorted all 5,000 to keep 32.
      expect(read).toBeLessThan(100);
      // The planner settings it needed are back for the rest of the transaction.
      const [settings] = await queryRows<{ sort: string; bitmap: string }>(
        tx,
        sql`select current_setting('enable_sort') as sort, current_setting('enable_bitmapscan') as bitmap`,
      );
      expect(settings).toEqual({ sort: "on", bitmap: "on" });
    });
  });

  it("When the due mail is larger than a claim's byte budget, then the claim takes the oldest that fit and the rest waits for the next claim", async () => {
    // Each stored size is 4,096 bytes: a budget of ten of them.
    await t.ctx.db.transaction(async (tx) => {
      const claimed = await claimDueInbound(tx, new Date(), { limit: 32, maxBytes: 10 * 4096 });
      expect(claimed.found).toBe(32);
      expect(claimed.rows.map((c) => c.raw?.toString().split("\r\n")[0])).toEqual(Array.from({ length: 10 }, (_, i) => `Subject: ${i}`));
    });
    // Nothing was taken for good: the next claim starts again with the oldest.
    await t.ctx.db.transaction(async (tx) => {
      const claimed = await claimDueInbound(tx, new Date(), { limit: 3 });
      expect(claimed.rows.map((c) => c.raw?.toString().split("\r\n")[0])).toEqual(["Subject: 0", "Subject: 1", "Subject: 2"]);
    });
  });

  it("When the oldest due mail alone is over the byte budget, then the claim still takes it, alone", async () => {
    await t.ctx.db.transaction(async (tx) => {
      const claimed = await claimDueInbound(tx, new Date(), { limit: 32, maxBytes: 100 });
      expect(claimed.found).toBe(32);
      expect(claimed.rows.map((c) => c.raw?.toString().split("\r\n")[0])).toEqual(["Subject: 0"]);
    });
  });
});
