// Leases: one owner at a time for single-owner work, taken over when the owner goes silent.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { acquireLease, releaseLease } from "../../../src/scheduler/leases.ts";
import { runLeased } from "../../../src/scheduler/leased.ts";
import { createTestContext, type TestContext } from "../../helpers/test-context.ts";

let t: TestContext;
beforeAll(async () => {
  t = await createTestContext();
});
afterAll(async () => t.close());

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("leases", () => {
  it("When two instances ask for the same lease, then only one holds it until it expires or is released", async () => {
    const now = new Date();
    expect(await acquireLease(t.ctx.db, "imap:a", "one", now, 1000)).toBe(true);
    expect(await acquireLease(t.ctx.db, "imap:a", "two", now, 1000)).toBe(false);
    expect(await acquireLease(t.ctx.db, "imap:a", "one", now, 1000)).toBe(true); // renewal
    expect(await acquireLease(t.ctx.db, "imap:a", "two", new Date(now.getTime() + 1500), 1000)).toBe(true); // expired: taken over
    await releaseLease(t.ctx.db, "imap:a", "two");
    expect(await acquireLease(t.ctx.db, "imap:a", "one", now, 1000)).toBe(true);
  });

  it("When the holder stops renewing, then the other instance starts the part within the lease time", async () => {
    const started: string[] = [];
    const part = (who: string) => () => {
      started.push(who);
      return { stop: async () => void started.push(`${who} stopped`) };
    };
    const first = runLeased(t.ctx, { name: "renewals", holder: "first", start: part("first"), renewMs: 50, ttlMs: 300 });
    await wait(150);
    const second = runLeased(t.ctx, { name: "renewals", holder: "second", start: part("second"), renewMs: 50, ttlMs: 300 });
    await wait(200);
    expect(started).toEqual(["first"]);
    expect(second.holding()).toBe(false);
    await first.stop(); // a clean stop releases at once
    await wait(200);
    expect(started).toEqual(["first", "first stopped", "second"]);
    expect(second.holding()).toBe(true);
    await second.stop();
  });
});
