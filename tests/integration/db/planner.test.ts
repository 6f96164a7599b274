// Planner switches hold for the one statement that needs them and leave the operator's own
// settings as they found them.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { claimDueInbound } from "../../../src/db/inbound-claims.ts";
import { queryRows, sql, type Executor } from "../../../src/db/client.ts";
import { withPlannerMethodsOff } from "../../../src/db/planner.ts";
import { touchTickets } from "../../../src/db/ticket-store.ts";
import { createTestContext, type TestContext } from "../../helpers/test-context.ts";

let t: TestContext;

beforeAll(async () => {
  t = await createTestContext();
});
afterAll(async () => t.close());

const setting = async (tx: Executor, name: string) =>
  (await queryRows<{ value: string }>(tx, sql`select current_setting(${name}) as value`))[0]!.value;

describe("planner switches", () => {
  it("When a statement runs with methods off, then it sees them off and the transaction sees them as before", async () => {
    await t.ctx.db.transaction(async (tx) => {
      const inside = await withPlannerMethodsOff<{ sort: string; seqscan: string }>(
        tx,
        ["enable_sort", "enable_seqscan"],
        sql`select current_setting('enable_sort') as sort, current_setting('enable_seqscan') as seqscan`,
      );
      expect(inside[0]).toEqual({ sort: "off", seqscan: "off" });
      expect(await setting(tx, "enable_sort")).toBe("on");
      expect(await setting(tx, "enable_seqscan")).toBe("on");
    });
  });

  it("When the operator turned sorting off for the session, then a claim leaves it off", async () => {
    await t.ctx.db.transaction(async (tx) => {
      await tx.execute(sql`set local enable_sort = off`);
      await claimDueInbound(tx, new Date(), { limit: 32 });
      expect(await setting(tx, "enable_sort")).toBe("off");
      expect(await setting(tx, "enable_bitmapscan")).toBe("on");
    });
  });

  it("When the operator turned sequential scans off for the session, then a ticket touch leaves them off", async () => {
    await t.ctx.db.transaction(async (tx) => {
      await tx.execute(sql`set local enable_seqscan = off`);
      const [ticket] = await queryRows<{ id: string }>(tx, sql`insert into tickets (subject, priority, job_type) values ('x', 'normal', 'Support Request') returning id`);
      await touchTickets(tx, [{ ticketId: ticket!.id, participants: [], reopen: false, at: new Date() }]);
      expect(await setting(tx, "enable_seqscan")).toBe("off");
    });
  });

  it("When the statement fails, then the error reaches the caller", async () => {
    await expect(
      t.ctx.db.transaction(async (tx) => {
        await withPlannerMethodsOff(tx, ["enable_sort"], sql`select 1 / 0`);
      }),
    ).rejects.toMatchObject({ cause: { message: expect.stringMatching(/division by zero/) } });
  });
});
