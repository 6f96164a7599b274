// webhook_deliveries: claiming due deliveries in batches (leased, FOR UPDATE SKIP LOCKED) and
// recording the outcome of attempts in batches, so a backlog drains at HTTP speed.
import { sql } from "drizzle-orm";
import { pgArray, queryRows, type Executor } from "./client.ts";

export type ClaimedDelivery = {
  id: string;
  eventId: string;
  endpointId: string;
  attempts: number;
  url: string;
  secret: Buffer;
  previousSecret: Buffer | null;
  previousSecretExpiresAt: Date | null;
  /** The event as stored (`{"type", "timestamp", "data"}`), sent as it is: the signed body. */
  body: string;
  /** The lease this claim holds; the attempt's outcome is written only while it still holds. */
  leasedUntil: Date;
};

const toBuffer = (v: unknown): Buffer | null =>
  v == null ? null : Buffer.isBuffer(v) ? v : Buffer.from((v as Uint8Array).buffer, (v as Uint8Array).byteOffset, (v as Uint8Array).byteLength);

/**
 * Claims up to `batch` due deliveries, at most `perEndpoint` per endpoint and none for endpoints
 * already saturated in this process, and leases them until `leaseUntil`: a crashed instance's
 * deliveries become due again when the lease runs out (at-least-once). Each enabled endpoint is
 * read from its own index range (endpoint, due time), so the cost follows what is claimed, not
 * the size of the backlog, and one endpoint's backlog cannot hide another's due deliveries; the
 * endpoints take turns in a random order when the batch cannot hold all of them.
 *
 * The lease is its own column, which no index reads: the claim rewrites each row in place (a
 * HOT update, with the table's fillfactor leaving room on the page) instead of adding a new
 * entry to each of its three indexes, as moving the due time did. Leased rows stay at the front
 * of their endpoint's range and are stepped over: at most the deliveries in flight or claimed
 * ahead.
 */
export async function claimDueDeliveries(
  executor: Executor,
  opts: { now: Date; leaseUntil: Date; batch: number; perEndpoint: number; saturated: string[] },
): Promise<ClaimedDelivery[]> {
  const now = opts.now.toISOString();
  const rows = await queryRows<Record<string, unknown>>(
    executor,
    sql`with picked as (
          select d.id
            from (select id from webhook_endpoints where enabled and not (id = any(${pgArray(opts.saturated)}::uuid[])) order by random()) e
            cross join lateral (
              -- Locked row by row: another instance may hold some (skipped) or have leased them
              -- already (stepped over until the lease runs out).
              select d.id from webhook_deliveries d
               where d.endpoint_id = e.id and d.status = 'pending' and d.next_attempt_at <= ${now}::timestamptz
                 and (d.leased_until is null or d.leased_until <= ${now}::timestamptz)
               order by d.next_attempt_at
               limit ${opts.perEndpoint}
               for update of d skip locked
            ) d
           limit ${opts.batch}
        )
        -- The picked ids as an array, so each row is found by its primary key: joined to the
        -- CTE, the planner could hash it against a scan of the whole table (bench/README.md).
        update webhook_deliveries d
           set leased_until = ${opts.leaseUntil.toISOString()}::timestamptz
          from webhook_endpoints e, events ev
         where d.id = any(array(select id from picked)) and e.id = d.endpoint_id and ev.id = d.event_id
     returning d.id, d.event_id, d.endpoint_id, d.attempts, e.url, e.secret, e.previous_secret,
               e.previous_secret_expires_at, ev.payload::text as payload`,
  );
  return rows.map((r) => ({
    id: r.id as string,
    eventId: r.event_id as string,
    endpointId: r.endpoint_id as string,
    attempts: Number(r.attempts),
    url: r.url as string,
    secret: toBuffer(r.secret)!,
    previousSecret: toBuffer(r.previous_secret),
    previousSecretExpiresAt: r.previous_secret_expires_at ? new Date(r.previous_secret_expires_at as string) : null,
    body: r.payload as string,
    leasedUntil: opts.leaseUntil,
  }));
}

export type AttemptResult = {
  deliveryId: string;
  /** The lease the attempt was made under (ClaimedDelivery.leasedUntil). */
  leasedUntil: Date;
  attemptedAt: Date;
  statusCode: number | null;
  durationMs: number;
  responseBody: string | null;
  error: string | null;
  /** pending (with nextAttemptAt) | succeeded | exhausted */
  status: "pending" | "succeeded" | "exhausted";
  nextAttemptAt: Date | null;
};

/**
 * Writes many attempts and their deliveries' new state in one statement. The deliveries are also
 * named as an array, so they are found by their primary key: joined to the JSON rows alone, the
 * planner (blind to how many rows the JSON holds, and without statistics on a young table) read
 * every delivery into a hash join for each batch.
 * An attempt row is written only for a delivery the update found (and locked): one deleted
 * meanwhile with its endpoint is skipped, where inserting its attempt failed the foreign key and
 * with it the whole batch, other endpoints' outcomes too (sent again when their leases ran out).
 * A delivery whose lease is no longer the attempt's (redelivered meanwhile, or its lease ran out
 * and another dispatcher claimed it) gets the attempt in its history but keeps its state, so a
 * redelivery asked for while the attempt was in flight is not overwritten by its outcome.
 * `healthy` endpoints (a success in this batch) lose their failing-since mark in the same
 * statement, and only where they have one: the common case is one write, not a transaction.
 */
export async function recordAttempts(executor: Executor, results: AttemptResult[], healthy: string[] = []): Promise<void> {
  if (results.length === 0) return;
  const json = JSON.stringify(
    results.map((r) => ({
      id: r.deliveryId,
      leased_until: r.leasedUntil.toISOString(),
      attempted_at: r.attemptedAt.toISOString(),
      status_code: r.statusCode,
      duration_ms: Math.round(r.durationMs),
      response_body: r.responseBody,
      error: r.error,
      status: r.status,
      next_at: r.nextAttemptAt?.toISOString() ?? null,
    })),
  );
  const ids = pgArray(results.map((r) => r.deliveryId));
  await executor.execute(sql`
    with r as (
      select * from jsonb_to_recordset(${json}::jsonb)
        as r(id uuid, leased_until timestamptz, attempted_at timestamptz, status_code int, duration_ms int, response_body text, error text, status text, next_at timestamptz)
    ), healed as (
      update webhook_endpoints set failing_since = null
       where id = any(${pgArray(healthy)}::uuid[]) and failing_since is not null
    ), settled as (
      update webhook_deliveries d
         set status = r.status,
             attempts = d.attempts + 1,
             next_attempt_at = coalesce(r.next_at, d.next_attempt_at),
             leased_until = null,
             last_status_code = r.status_code,
             last_error = r.error,
             updated_at = r.attempted_at,
             completed_at = case when r.status in ('succeeded', 'exhausted') then r.attempted_at else null end
        from r
       where d.id = r.id and d.id = any(${ids}::uuid[]) and d.leased_until = r.leased_until
   returning d.id
    ), superseded as (
      -- Locked, so a delivery deleted meanwhile is skipped here instead of failing the insert.
      select d.id from webhook_deliveries d
       where d.id = any(array(select id from r except select id from settled))
         for share of d
    )
    insert into webhook_attempts (delivery_id, attempted_at, status_code, duration_ms, response_body, error)
    select r.id, r.attempted_at, r.status_code, r.duration_ms, r.response_body, r.error
      from r where r.id in (select id from settled union all select id from superseded)`);
}

/** Gives claimed deliveries back unsent (a dispatcher stopping): due again at once for any instance. */
export async function releaseLeases(executor: Executor, ids: string[]): Promise<void> {
  await executor.execute(sql`update webhook_deliveries set leased_until = null where id = any(${pgArray(ids)}::uuid[]) and status = 'pending'`);
}

/** Sends a delivery again with the same event id (webhook-id); works on finished ones too. */
export async function redeliver(executor: Executor, id: string, now: Date): Promise<boolean> {
  const rows = await queryRows<{ id: string }>(
    executor,
    sql`update webhook_deliveries set status = 'pending', next_attempt_at = ${now.toISOString()}::timestamptz,
               leased_until = null, completed_at = null, updated_at = ${now.toISOString()}::timestamptz
         where id = ${id} returning id`,
  );
  return rows.length > 0;
}

/**
 * When the next delivery the dispatcher may claim comes due: the earliest pending delivery of an
 * enabled endpoint (each endpoint's own index range), or the end of its lease when another
 * instance holds it. A disabled endpoint's deliveries wait, pending, for it to be re-enabled;
 * counting them made an idle dispatcher poll every 5 ms for as long as such a delivery was
 * overdue. Only the first deliveries of each range are looked at; the caller sleeps no longer
 * than its poll interval anyway.
 */
export async function nextDueAt(executor: Executor): Promise<Date | null> {
  const rows = await queryRows<{ at: string | Date | null }>(
    executor,
    sql`select min(d.at) as at
          from webhook_endpoints e
          cross join lateral (
            select greatest(next_attempt_at, leased_until) as at from webhook_deliveries d
             where d.endpoint_id = e.id and d.status = 'pending'
             order by d.next_attempt_at
             limit 100
          ) d
         where e.enabled`,
  );
  const at = rows[0]?.at;
  return at ? new Date(at) : null;
}
