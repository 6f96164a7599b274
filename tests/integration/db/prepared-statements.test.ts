// On Postgres every statement is prepared once per connection (alwaysPrepared in src/db/client.ts):
// drizzle would otherwise have each one parsed, described and planned anew, at two round trips.
// The pool's connections are opened when the pipeline starts, not in the middle of the first
// burst of mail.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows, sql } from "../../../src/db/client.ts";
import { startPipelineWorkers } from "../../../src/pipeline/worker.ts";
import { createTestContext, type TestContext, usingPostgres } from "../../helpers/test-context.ts";

let t: TestContext;
beforeAll(async () => {
  t = await createTestContext();
});
afterAll(async () => t.close());

describe.runIf(usingPostgres())("prepared statements and the pool", () => {
  it("When a query runs twice on a connection, then it is prepared once and reused", async () => {
    await t.ctx.db.transaction(async (tx) => {
      for (const n of [1, 2]) await tx.execute(sql`select ${n}::int + 0 as prepared_probe`);
      const rows = await queryRows<{ n: number }>(tx, sql`select count(*)::int as n from pg_prepared_statements where statement like '%prepared_probe%' and statement not like '%pg_prepared_statements%'`);
      expect(rows[0]?.n).toBe(1);
    });
  });

  it("When the pipeline workers start, then the whole pool connects without waiting for demand", async () => {
    const count = async () =>
      (await queryRows<{ n: number }>(t.ctx.db, sql`select count(*)::int as n from pg_stat_activity where datname = current_database() and backend_type = 'client backend'`))[0]?.n ?? 0;
    // Nothing here has asked for more than one connection at a time, and there is no mail.
    expect(await count()).toBeLessThan(t.ctx.config.databasePoolSize);
    const workers = startPipelineWorkers(t.ctx);
    try {
      await expect.poll(count, { timeout: 10_000, interval: 50 }).toBeGreaterThanOrEqual(t.ctx.config.databasePoolSize);
    } finally {
      await workers.stop();
    }
  });

  it("When any of the pool's connections runs a statement, then the server's JIT is off for it", async () => {
    // The claim and the ticket touch run with a planner method off; a plan that had to use it
    // would be priced past the JIT threshold and compiled on every run (350 ms and more).
    const settings = await Promise.all(
      Array.from({ length: t.ctx.config.databasePoolSize }, () =>
        t.ctx.db.transaction(async (tx) => {
          const rows = await queryRows<{ jit: string; pid: number }>(tx, sql`select current_setting('jit') as jit, pg_backend_pid() as pid, pg_sleep(0.05)`);
          return rows[0]!;
        }),
      ),
    );
    expect(new Set(settings.map((s) => s.pid)).size).toBeGreaterThan(1);
    expect(settings.map((s) => s.jit)).toEqual(settings.map(() => "off"));
  });

  it("When a nested transaction (savepoint) runs, then its statements are prepared too and it commits", async () => {
    const value = await t.ctx.db.transaction(async (tx) =>
      tx.transaction(async (inner) => {
        await inner.execute(sql`select ${3}::int as nested_probe`);
        const rows = await queryRows<{ n: number }>(inner, sql`select count(*)::int as n from pg_prepared_statements where statement like '%nested_probe%' and statement not like '%pg_prepared_statements%'`);
        return rows[0]?.n;
      }),
    );
    expect(value).toBe(1);
  });
});
