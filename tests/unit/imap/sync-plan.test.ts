import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { emptyExistsRetryDelayMs, FOLLOW_UP, followUpDelayMs, planBatches, planSync, providerMessageId, SCAN_CLOCK_SKEW_MS, type ListedMessage } from "../../../src/sources/imap/sync-plan.ts";

const created = new Date("2025-03-14T12:00:00.000Z");
const limits = { maxBytes: 1_000_000, batchSize: 50, batchBytes: 10_000_000 };
const msg = (uid: number, size = 1_000, internalDate: Date | null = new Date("2025-03-15T00:00:00Z")): ListedMessage => ({ uid, size, internalDate });

describe("planSync", () => {
  it("fetches the UIDs above the cursor when the folder is the one the cursor describes", () => {
    expect(planSync({ uidValidity: "7", lastUid: 41 }, { uidValidity: "7", exists: 50 }, created)).toEqual({
      uidValidity: "7",
      afterUid: 41,
      range: "42:*",
      since: null,
      reason: "incremental",
    });
  });

  it("asks for nothing when the folder is empty", () => {
    expect(planSync({ uidValidity: "7", lastUid: 41 }, { uidValidity: "7", exists: 0 }, created).range).toBeNull();
  });

  it("scans the whole folder, from shortly before the source was created, when UIDVALIDITY changed", () => {
    const plan = planSync({ uidValidity: "7", lastUid: 41 }, { uidValidity: "9", exists: 3 }, created);
    expect(plan).toEqual({
      uidValidity: "9",
      afterUid: 0,
      range: "1:*",
      since: new Date(created.getTime() - SCAN_CLOCK_SKEW_MS),
      reason: "uidvalidity_changed",
    });
  });

  it("scans on the first sync too, leaving the mailbox's older history alone", () => {
    expect(planSync(null, { uidValidity: "9", exists: 3 }, created).reason).toBe("first_sync");
  });
});

describe("planBatches", () => {
  const incremental = planSync({ uidValidity: "7", lastUid: 10 }, { uidValidity: "7", exists: 1 }, created);

  it("ignores the last message that 'n:*' returns when nothing is new", () => {
    const work = planBatches(incremental, [msg(10)], limits);
    expect(work.batches).toEqual([]);
    expect(work.finalCursor).toEqual({ uidValidity: "7", lastUid: 10 });
  });

  it("fetches new UIDs in order and moves the cursor to the last one only with the last batch", () => {
    const listed = Array.from({ length: 120 }, (_, i) => msg(11 + i)).reverse();
    const work = planBatches(incremental, listed, limits);
    expect(work.batches.map((b) => [b.uids[0], b.uids.length, b.cursorAfter.lastUid])).toEqual([
      [11, 50, 60],
      [61, 50, 110],
      [111, 20, 130],
    ]);
  });

  it("keeps each batch under the byte budget, and gives a message bigger than the budget a batch of its own", () => {
    const work = planBatches(incremental, [msg(11, 6_000), msg(12, 6_000), msg(13, 20_000), msg(14, 1)], {
      ...limits,
      maxBytes: 50_000,
      batchBytes: 10_000,
    });
    expect(work.batches.map((b) => b.uids)).toEqual([[11], [12], [13], [14]]);
  });

  it("passes over messages above the size limit, reporting them, and still moves the cursor past them", () => {
    const work = planBatches(incremental, [msg(11), msg(12, 2_000_000)], limits);
    expect(work.tooLarge.map((m) => m.uid)).toEqual([12]);
    expect(work.batches).toEqual([{ uids: [11], cursorAfter: { uidValidity: "7", lastUid: 12 } }]);
  });

  it("in a scan, skips mail older than the source but moves the cursor past it", () => {
    const scan = planSync(null, { uidValidity: "9", exists: 3 }, created);
    const old = new Date(created.getTime() - SCAN_CLOCK_SKEW_MS - 1);
    const work = planBatches(scan, [msg(1, 10, old), msg(2, 10, created), msg(3, 10, null), msg(4, 10, old)], limits);
    expect(work.batches).toEqual([{ uids: [2, 3], cursorAfter: { uidValidity: "9", lastUid: 4 } }]);
  });

  it("never moves the cursor backwards, never fetches a UID twice, and ends at the highest UID seen", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 500 }),
        fc.array(fc.record({ uid: fc.integer({ min: 1, max: 1_000 }), size: fc.integer({ min: 1, max: 3_000_000 }) })),
        (lastUid, raw) => {
          const plan = planSync({ uidValidity: "1", lastUid }, { uidValidity: "1", exists: raw.length }, created);
          const work = planBatches(plan, raw.map((r) => msg(r.uid, r.size)), limits);
          const fetched = work.batches.flatMap((b) => b.uids);
          expect(new Set(fetched).size).toBe(fetched.length);
          expect(fetched.every((uid) => uid > lastUid)).toBe(true);
          expect(fetched).toEqual([...fetched].sort((a, b) => a - b));
          let cursor = lastUid;
          for (const b of work.batches) {
            expect(b.cursorAfter.lastUid).toBeGreaterThanOrEqual(Math.max(cursor, ...b.uids));
            cursor = b.cursorAfter.lastUid;
          }
          expect(work.finalCursor.lastUid).toBe(Math.max(lastUid, ...raw.map((r) => r.uid)));
        },
      ),
    );
  });
});

describe("providerMessageId", () => {
  it("is uidValidity:uid, so a renumbered folder never collides with the old one", () => {
    expect(providerMessageId("1795463891", 42)).toBe("1795463891:42");
  });
});

describe("emptyExistsRetryDelayMs", () => {
  it("retries an EXISTS that brought nothing a few times, sooner first, then leaves it to the safety net", () => {
    expect([0, 1, 2, 3, 4].map(emptyExistsRetryDelayMs)).toEqual([250, 1_000, 3_000, 10_000, null]);
  });
});

describe("followUpDelayMs", () => {
  it("looks again shortly while mail was found recently, and stops once the folder has been quiet", () => {
    expect(followUpDelayMs(0)).toBe(FOLLOW_UP.everyMs);
    expect(followUpDelayMs(FOLLOW_UP.forMs - 1)).toBe(FOLLOW_UP.everyMs);
    expect(followUpDelayMs(FOLLOW_UP.forMs)).toBeNull();
    expect(followUpDelayMs(null)).toBeNull();
  });
});
