// What GET /api/stats reads: counts per bucket of a window, and the counts of what needs a person
// now. Every figure comes from the stored rows, so every instance answers the same and a restart
// loses nothing. A bucket is named by its start (date_bin's, on the window's own grid).
import { sql, type SQL } from "drizzle-orm";
import { queryRows, type Executor } from "./client.ts";
import type { InboundStatus, SourceKind, SourceStatus } from "./statuses.ts";
import type { StatsWindow } from "../stats/stats-window.ts";

/** The statuses a processed message can have, each counted in the bucket it was processed in. */
export const PROCESSED_STATUSES = ["ticket_created", "note_added", "lead_created", "ignored", "duplicate", "unrouted", "failed"] as const satisfies InboundStatus[];
export type ProcessedStatus = (typeof PROCESSED_STATUSES)[number];

export type Latency = { count: number; p50: number | null; p95: number | null };
/** `bucket` null: the whole window. */
export type ProcessedCounts = { bucket: Date | null; counts: Record<ProcessedStatus, number>; latencyMs: Latency };
export type Counted<K extends string> = { bucket: Date } & Record<K, number>;

const at = (d: Date) => sql`${d.toISOString()}::timestamptz`;
// date_bin and interval arithmetic, not extract(epoch ...): extract answers numeric, whose
// arithmetic is slow to do on every row of a week of mail.
const bucketOf = (column: SQL, w: StatsWindow) => sql`date_bin(${w.bucketSeconds}::int * interval '1 second', ${column}, ${at(w.from)})`;
const within = (column: SQL, w: StatsWindow) => sql`${column} >= ${at(w.from)} and ${column} < ${at(w.to)}`;
const time = (v: unknown) => (v === null || v === undefined ? null : new Date(v as string | Date));
const number = (v: unknown) => (v === null || v === undefined ? null : Number(v));

/**
 * Processed messages by their current status, per bucket of processed_at and for the whole
 * window (a grouping set), with the latency of those that became a new ticket.
 *
 * Latency: received_at (the raw MIME stored; the provider's signal itself leaves no time) to
 * processed_at (the instant the pipeline's transaction gave the ticket as its created_at; the
 * commit follows within that batch's milliseconds and is not stored). Nearest-rank percentiles
 * (percentile_disc), as the benches compute theirs. docs/stats.md says it for API users.
 */
export async function countProcessed(executor: Executor, w: StatsWindow): Promise<ProcessedCounts[]> {
  const counts = sql.join(
    PROCESSED_STATUSES.map((s) => sql`count(*) filter (where status = ${s})::int as ${sql.identifier(s)}`),
    sql`, `,
  );
  const ms = (percentile: number) => sql`round(date_part('epoch', percentile_disc(${percentile}::float8) within group (order by latency)) * 1000)`;
  const rows = await queryRows<Record<string, unknown>>(
    executor,
    sql`select bucket, ${counts}, count(latency)::int as latency_count, ${ms(0.5)} as p50, ${ms(0.95)} as p95
          from (select ${bucketOf(sql`m.processed_at`, w)} as bucket, m.status,
                       case when m.status = 'ticket_created' then greatest(interval '0', m.processed_at - m.received_at) end as latency
                  from inbound_messages m
                 where ${within(sql`m.processed_at`, w)} and m.status <> 'received') p
         group by grouping sets ((bucket), ())`,
  );
  return rows.map((r) => ({
    bucket: time(r.bucket),
    counts: Object.fromEntries(PROCESSED_STATUSES.map((s) => [s, Number(r[s])])) as Record<ProcessedStatus, number>,
    latencyMs: { count: Number(r.latency_count), p50: number(r.p50), p95: number(r.p95) },
  }));
}

/**
 * Messages stored per source and bucket of received_at; `sourceId` null for those whose source
 * was deleted. Each source's messages are read from its own index range (source, received_at),
 * so the cost follows the window, not the table's history.
 */
export async function countReceived(executor: Executor, w: StatsWindow): Promise<({ sourceId: string | null } & Counted<"count">)[]> {
  const rows = await queryRows<{ source_id: string | null; bucket: string | Date; n: number }>(
    executor,
    sql`select s.id as source_id, r.bucket, r.n
          from mail_sources s
          cross join lateral (
            select ${bucketOf(sql`m.received_at`, w)} as bucket, count(*)::int as n
              from inbound_messages m
             where m.source_id = s.id and ${within(sql`m.received_at`, w)}
             group by 1
          ) r
        union all
        select null, ${bucketOf(sql`m.received_at`, w)}, count(*)::int
          from inbound_messages m
         where m.source_id is null and ${within(sql`m.received_at`, w)}
         group by 2`,
  );
  return rows.map((r) => ({ sourceId: r.source_id, bucket: time(r.bucket)!, count: Number(r.n) }));
}

/** Webhook delivery attempts per bucket of attempted_at: a 2xx answer succeeded, anything else (or none) failed. */
export async function countDeliveryAttempts(executor: Executor, w: StatsWindow): Promise<Counted<"succeeded" | "failed">[]> {
  const rows = await queryRows<{ bucket: string | Date; succeeded: number; failed: number }>(
    executor,
    sql`select ${bucketOf(sql`a.attempted_at`, w)} as bucket,
               count(*) filter (where a.status_code between 200 and 299)::int as succeeded,
               count(*) filter (where a.status_code is null or a.status_code not between 200 and 299)::int as failed
          from webhook_attempts a
         where ${within(sql`a.attempted_at`, w)}
         group by 1`,
  );
  return rows.map((r) => ({ bucket: time(r.bucket)!, succeeded: Number(r.succeeded), failed: Number(r.failed) }));
}

/**
 * Outgoing mail per bucket: sent by sent_at; failed (refused for good) by updated_at, which the
 * attempt that failed it wrote last.
 */
export async function countOutbound(executor: Executor, w: StatsWindow): Promise<Counted<"sent" | "failed">[]> {
  const rows = await queryRows<{ bucket: string | Date; sent: number; failed: number }>(
    executor,
    sql`select bucket, count(*) filter (where sent)::int as sent, count(*) filter (where not sent)::int as failed
          from (select ${bucketOf(sql`o.sent_at`, w)} as bucket, true as sent
                  from outbound_messages o where ${within(sql`o.sent_at`, w)}
                union all
                select ${bucketOf(sql`o.updated_at`, w)}, false
                  from outbound_messages o where o.status = 'failed' and ${within(sql`o.updated_at`, w)}) x
         group by 1`,
  );
  return rows.map((r) => ({ bucket: time(r.bucket)!, sent: Number(r.sent), failed: Number(r.failed) }));
}

export type StatsSource = { id: string; name: string; kind: SourceKind; status: SourceStatus; lastReceivedAt: Date | null };

/** Every source, by name, with when it last stored a message (the newest entry of its index range). */
export async function listStatsSources(executor: Executor): Promise<StatsSource[]> {
  const rows = await queryRows<{ id: string; name: string; kind: SourceKind; status: SourceStatus; last_received_at: string | Date | null }>(
    executor,
    sql`select s.id, s.name, s.kind, s.status,
               (select max(m.received_at) from inbound_messages m where m.source_id = s.id) as last_received_at
          from mail_sources s
         order by s.name, s.id`,
  );
  return rows.map((r) => ({ id: r.id, name: r.name, kind: r.kind, status: r.status, lastReceivedAt: time(r.last_received_at) }));
}

export type Attention = {
  unrouted: number;
  failed: number;
  sourcesInError: number;
  sourcesNeedingReauth: number;
  subscriptionsExpiringWithinDay: number;
  endpointsFailing: number;
  endpointsDisabled: number;
  outboundFailed: number;
  deliveriesBacklog: number;
};

/**
 * What waits for a person now, whatever the window. A subscription counts when it expires within
 * a day of `now` (or has expired) and its source is not disabled; the backlog is every pending
 * delivery, due now or waiting for its retry.
 */
export async function countAttention(executor: Executor, now: Date): Promise<Attention> {
  const dayAhead = new Date(now.getTime() + 24 * 3600_000);
  const [row] = await queryRows<Record<keyof Attention, number>>(
    executor,
    sql`select
          (select count(*) from inbound_messages where status = 'unrouted')::int as "unrouted",
          (select count(*) from inbound_messages where status = 'failed')::int as "failed",
          (select count(*) from mail_sources where status = 'error')::int as "sourcesInError",
          (select count(*) from mail_sources where status = 'needs_reauth')::int as "sourcesNeedingReauth",
          (select count(*) from push_subscriptions p join mail_sources s on s.id = p.source_id
            where p.expires_at < ${at(dayAhead)} and s.status <> 'disabled')::int as "subscriptionsExpiringWithinDay",
          (select count(*) from webhook_endpoints where enabled and failing_since is not null)::int as "endpointsFailing",
          (select count(*) from webhook_endpoints where not enabled)::int as "endpointsDisabled",
          (select count(*) from outbound_messages where status = 'failed')::int as "outboundFailed",
          (select count(*) from webhook_deliveries where status = 'pending')::int as "deliveriesBacklog"`,
  );
  return Object.fromEntries(Object.entries(row!).map(([k, v]) => [k, Number(v)])) as Attention;
}
