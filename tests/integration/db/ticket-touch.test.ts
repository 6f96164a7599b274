// The tickets a batch's replies add to are found by their key, whatever the plan the connection
// made of the statement while the tickets table was young.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows, sql } from "../../../src/db/client.ts";
import { touchTickets } from "../../../src/db/ticket-store.ts";
import { rowsRead } from "../../helpers/db-tables.ts";
import { createTestContext, type TestContext } from "../../helpers/test-context.ts";

let t: TestContext;
const TICKETS = 3000;

const insertTickets = (tx: Parameters<typeof rowsRead>[0], n: number) =>
  queryRows<{ id: string }>(tx, sql`insert into tickets (subject, priority, job_type) select 'ticket ' || g, 'normal', 'Support Request' from generate_series(1, ${n}) g returning id`);

beforeAll(async () => {
  t = await createTestContext();
});
afterAll(async () => t.close());

describe("touchTickets", () => {
  it("When its plan was made while there were two tickets, then among 3,000 it still reads only the tickets it touches", async () => {
    await t.ctx.db.transaction(async (tx) => {
      // As the pipeline runs it: one plan for the connection, made at the first use.
      await tx.execute(sql`set local plan_cache_mode = force_generic_plan`);
      const [first] = await insertTickets(tx, 2);
      await touchTickets(tx, [{ ticketId: first!.id, participants: ["a@acme.com"], reopen: false, at: new Date() }]);

      const many = await insertTickets(tx, TICKETS);
      const before = await rowsRead(tx, "tickets");
      const touched = await touchTickets(
        tx,
        many.slice(0, 3).map(({ id }) => ({ ticketId: id, participants: ["b@acme.com"], reopen: true, at: new Date() })),
      );
      const read = (await rowsRead(tx, "tickets")) - before;

      expect(touched.map((x) => x?.id)).toEqual(many.slice(0, 3).map((x) => x.id));
      // With the plan made for two tickets, every touch read all of them, twice.
      expect(read).toBeLessThan(50);
      // The setting that keeps the plan on the index is the statement's own.
      const [setting] = await queryRows<{ on: string }>(tx, sql`select current_setting('enable_seqscan') as on`);
      expect(setting?.on).toBe("on");
    });
  });
});
