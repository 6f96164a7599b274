// Direct table set-up and the transaction's own read counters, for the tests of statements that
// must read only what they need however large the table (and however stale its statistics).
import { queryRows, sql, type Executor } from "../../src/db/client.ts";
import { webhookEndpoints } from "../../src/db/schema.ts";
import { generateWebhookSecret } from "../../src/delivery/sign-webhook.ts";
import type { TestContext } from "./test-context.ts";

/** Rows of `table` this transaction has read so far (pg_stat_xact_user_tables). */
export async function rowsRead(tx: Executor, table: string): Promise<number> {
  const [row] = await queryRows<{ n: string | number }>(
    tx,
    sql`select coalesce(idx_tup_fetch, 0) + coalesce(seq_tup_read, 0) as n from pg_stat_xact_user_tables where relname = ${table}`,
  );
  return Number(row?.n ?? 0);
}

/** An enabled endpoint nobody listens on (nothing is sent in these tests). */
export async function insertWebhookEndpoint(t: TestContext): Promise<string> {
  const [endpoint] = await t.ctx.db
    .insert(webhookEndpoints)
    .values({ url: "http://127.0.0.1:9/hooks", secret: t.ctx.secrets.seal(generateWebhookSecret()) })
    .returning({ id: webhookEndpoints.id });
  return endpoint!.id;
}
