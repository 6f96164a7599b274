// Retention, one bounded batch per call: each statement touches at most `limit` rows, so a big
// table is never locked for long and other instances' work slips between batches.
import { sql } from "drizzle-orm";
import { queryRows, type Executor } from "./client.ts";

/**
 * Raw MIME kept whatever its age: `received` is still to be processed, `failed` waits for a
 * reprocess, `unrouted` waits for its domain to be mapped (reroute needs the bytes, and nothing
 * else holds the email's body).
 */
export const RAW_KEPT_STATUSES = ["received", "failed", "unrouted"] as const;

const countOf = async (executor: Executor, query: ReturnType<typeof sql>) =>
  (await queryRows<{ n: number }>(executor, query))[0]?.n ?? 0;

/** Drops the raw bytes of up to `limit` messages processed before `before`; returns how many. */
export async function purgeRawBatch(executor: Executor, opts: { before: Date; now: Date; limit: number }): Promise<number> {
  const kept = sql.join(RAW_KEPT_STATUSES.map((s) => sql`${s}`), sql`, `);
  return countOf(
    executor,
    sql`
      with batch as (
        select id from inbound_messages
        where raw is not null and status not in (${kept}) and processed_at < ${opts.before.toISOString()}::timestamptz
        limit ${opts.limit}
        for update skip locked
      ), purged as (
        update inbound_messages m set raw = null, raw_purged_at = ${opts.now.toISOString()}::timestamptz
        from batch where m.id = batch.id
        returning 1
      )
      select count(*)::int as n from purged`,
  );
}

export async function deleteWebhookAttemptsBatch(executor: Executor, opts: { before: Date; limit: number }): Promise<number> {
  return countOf(
    executor,
    sql`
      with batch as (
        select id from webhook_attempts where attempted_at < ${opts.before.toISOString()}::timestamptz limit ${opts.limit}
      ), gone as (
        delete from webhook_attempts a using batch where a.id = batch.id returning 1
      )
      select count(*)::int as n from gone`,
  );
}

export async function deleteErrorLogBatch(executor: Executor, opts: { before: Date; limit: number }): Promise<number> {
  return countOf(
    executor,
    sql`
      with batch as (
        select id from error_log where at < ${opts.before.toISOString()}::timestamptz limit ${opts.limit}
      ), gone as (
        delete from error_log e using batch where e.id = batch.id returning 1
      )
      select count(*)::int as n from gone`,
  );
}
