// Every place mailgate steers Postgres's planner, and why; nothing else in src/ sets a planner
// setting. A switch holds for one statement and is then put back to exactly what the server, the
// role or the operator had set, never to a value of our own.
//
// The switches that stayed, each because its test fails without it on a table whose statistics
// are stale or whose plan was made young (tests/integration/db):
// - plan_cache_mode = force_generic_plan, for a pipeline batch: its statements are planned once
//   per connection instead of for every message (routing-facts.test.ts).
// - enable_sort off, for the inbound claim: it reads the waiting mail in its partial index's order
//   and stops at the limit (inbound-claims.test.ts). Bitmap scans were off too; the test passes
//   without that switch, so it went.
// - enable_seqscan off, for the ticket touch: the generic plan made while the tickets table was
//   young would otherwise read the whole table (ticket-touch.test.ts).
import { sql, type SQL } from "drizzle-orm";
import { rowsOf, type Executor } from "./client.ts";

export type PlannerSwitch = "enable_sort" | "enable_seqscan";

/** The rest of the transaction plans each statement once per connection (a generic plan). */
export function planOncePerConnection(executor: Executor): Promise<unknown> {
  return executor.execute(sql`set local plan_cache_mode = force_generic_plan`);
}

/**
 * Runs `query` with the given planner methods off and answers its rows. The three statements are
 * started back to back on the transaction's connection (a query starts when its `.then` is
 * called), so they cost one round trip; the previous values wait in settings of mailgate's own
 * until they are put back.
 */
export async function withPlannerMethodsOff<Row>(executor: Executor, switches: PlannerSwitch[], query: SQL): Promise<Row[]> {
  const save = sql.join(
    switches.map((s) => sql`set_config(${saved(s)}, current_setting(${s}), true), set_config(${s}, 'off', true)`),
    sql`, `,
  );
  const restore = sql.join(
    switches.map((s) => sql`set_config(${s}, current_setting(${saved(s)}), true)`),
    sql`, `,
  );
  const off = executor.execute(sql`select ${save}`).then(() => undefined);
  const rows = executor.execute(query).then((result) => rowsOf<Row>(result));
  const back = executor.execute(sql`select ${restore}`).then(() => undefined);
  const [, answered] = await Promise.all([off, rows, back]);
  return answered;
}

const saved = (name: PlannerSwitch): string => `mailgate.saved_${name}`;
