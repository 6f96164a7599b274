// bench:stats — GET /api/stats over 7 days of mail (issue #26's goal: under 200 ms for 100,000
// messages on Postgres). A fresh database is seeded in bulk, in SQL: BENCH_MESSAGES inbound
// messages (100,000) from 20 sources, spread evenly over the 7 days before the seed, each with the
// raw MIME of a short mail kept inline; the processed ones mostly new tickets (with their tickets,
// an acknowledgement sent or failed, an event and a delivery to each of two endpoints, one or two
// attempts), the rest notes, ignored, duplicates, unrouted, leads and failed. Then VACUUM ANALYZE,
// as autovacuum would have done by then, and GET /api/stats over HTTP for the last hour, 24 hours
// and 7 days (the default bucket of each: minute, 15m, hour), BENCH_RUNS times each after two
// warm-ups: p50 and max. Each read of the answer is then timed alone (where the time goes);
// BENCH_EXPLAIN=1 prints the plans. BENCH_WITHOUT_INDEXES=1 drops the indexes the stats read
// through afterwards and times the windows again. BENCH_DATABASE=pglite: the embedded database.
import type { AddressInfo } from "node:net";
import os from "node:os";
import { sql, type SQL } from "drizzle-orm";
import type { Context } from "../src/context.ts";
import { queryRows, type Executor } from "../src/db/client.ts";
import { countAttention, countDeliveryAttempts, countOutbound, countProcessed, countReceived, listStatsSources } from "../src/db/stats.ts";
import { createApp } from "../src/http/app.ts";
import { planStatsWindow, type StatsWindow } from "../src/stats/stats-window.ts";
import { buildEmail } from "../tests/helpers/build-email.ts";
import { benchContext, embeddedBenchContext, fmt } from "./bench-database.ts";

const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 100_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 10);
const DATABASE = process.env.BENCH_DATABASE ?? "postgres";
const EXPLAIN = process.env.BENCH_EXPLAIN === "1";
const WITHOUT_INDEXES = process.env.BENCH_WITHOUT_INDEXES === "1";
const SOURCES = 20;
const DAY_MS = 24 * 3600_000;
const SPAN_MS = 7 * DAY_MS;
const WINDOWS = [
  { name: "1 hour", ms: 3600_000 },
  { name: "24 hours", ms: DAY_MS },
  { name: "7 days", ms: SPAN_MS },
];
/** The indexes the stats read through (migration 0008), dropped for BENCH_WITHOUT_INDEXES. */
const STATS_INDEXES = ["inbound_messages_source_received", "inbound_messages_processed", "webhook_attempts_attempted", "outbound_messages_sent"];

async function main() {
  if (DATABASE !== "postgres" && DATABASE !== "pglite") throw new Error(`BENCH_DATABASE must be postgres or pglite, not ${DATABASE}`);
  const { ctx, close } = DATABASE === "pglite" ? await embeddedBenchContext() : await benchContext();
  const server = createApp(ctx).listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    const end = new Date();
    const seedStarted = performance.now();
    await seed(ctx, end);
    console.log(`\nbench:stats (${ctx.database.kind}): ${fmt(MESSAGES)} messages over 7 days seeded in ${fmt((performance.now() - seedStarted) / 1000, 1)} s; ${await sizes(ctx)}\n`);

    await timeWindows(ctx, base, end, "with the stats indexes");
    if (WITHOUT_INDEXES) {
      for (const name of STATS_INDEXES) await ctx.db.execute(sql`drop index if exists ${sql.identifier(name)}`);
      await ctx.db.execute(sql`analyze`);
      await timeWindows(ctx, base, end, "without them");
    }
    console.log(`\n${os.cpus().length} CPUs, load ${os.loadavg().map((l) => l.toFixed(1)).join(" ")}\n`);
  } finally {
    server.close();
    await close();
  }
}

async function timeWindows(ctx: Context, base: string, end: Date, label: string) {
  console.log(`GET /api/stats, ${label} (${RUNS} runs after 2 warm-ups):`);
  for (const w of WINDOWS) {
    const query = `from=${new Date(end.getTime() - w.ms).toISOString()}&to=${end.toISOString()}`;
    const ms: number[] = [];
    let bytes = 0;
    let body: { bucket: string; buckets: unknown[]; totals: { received: number } } | undefined;
    for (let i = 0; i < RUNS + 2; i++) {
      const started = performance.now();
      const res = await fetch(`${base}/api/stats?${query}`, { headers: { authorization: `Bearer ${ctx.adminToken}` } });
      const text = await res.text();
      if (res.status !== 200) throw new Error(`GET /api/stats answered ${res.status}: ${text}`);
      if (i >= 2) ms.push(performance.now() - started);
      bytes = text.length;
      body = JSON.parse(text);
    }
    const sorted = ms.sort((a, b) => a - b);
    console.log(
      `  ${w.name.padEnd(9)} p50 ${fmt(sorted[Math.floor(sorted.length / 2)]!, 1).padStart(6)} ms   max ${fmt(sorted.at(-1)!, 1).padStart(6)} ms` +
        `   (${body!.buckets.length} buckets of ${body!.bucket}, ${fmt(body!.totals.received)} received, ${fmt(bytes / 1024, 1)} KB)`,
    );
    const plan = planStatsWindow({ from: new Date(end.getTime() - w.ms), to: end }, end);
    if (plan.kind === "window") await timeReads(ctx, plan.window, end);
  }
}

/** Each read of the answer alone, median of five runs; with BENCH_EXPLAIN, its plan. */
async function timeReads(ctx: Context, window: StatsWindow, now: Date) {
  const reads: [string, (e: Executor) => Promise<unknown>][] = [
    ["processed", (e) => countProcessed(e, window)],
    ["received", (e) => countReceived(e, window)],
    ["deliveries", (e) => countDeliveryAttempts(e, window)],
    ["outbound", (e) => countOutbound(e, window)],
    ["sources", (e) => listStatsSources(e)],
    ["attention", (e) => countAttention(e, now)],
  ];
  const parts: string[] = [];
  for (const [name, read] of reads) {
    const ms: number[] = [];
    for (let i = 0; i < 5; i++) {
      const started = performance.now();
      await read(ctx.db);
      ms.push(performance.now() - started);
    }
    parts.push(`${name} ${fmt(ms.sort((a, b) => a - b)[2]!, 1)}`);
    if (EXPLAIN) console.log(`    ${name}:\n${(await explain(ctx, read)).map((l) => `      ${l}`).join("\n")}`);
  }
  console.log(`    reads alone (ms): ${parts.join(", ")}`);
}

/** The plan of a read: its statement run under EXPLAIN ANALYZE by an executor that answers the plan's lines. */
async function explain(ctx: Context, read: (e: Executor) => Promise<unknown>): Promise<string[]> {
  const lines: string[] = [];
  const explaining = {
    execute: async (query: SQL) => {
      const rows = await queryRows<Record<string, string>>(ctx.db, sql`explain (analyze, buffers) ${query}`);
      lines.push(...rows.map((r) => Object.values(r)[0]!));
      return [];
    },
  };
  await read(explaining as unknown as Executor).catch(() => undefined);
  return lines;
}

/** Everything in bulk, in one transaction, from one table of per-message values. */
async function seed(ctx: Context, end: Date) {
  const raw = buildEmail({ from: "customer@acme.example", subject: "The printer on the second floor is broken again", text: "Hello,\n\n".concat("It prints half a page, then stops. ".repeat(30)) });
  const from = new Date(end.getTime() - SPAN_MS).toISOString();
  await ctx.db.transaction(async (tx) => {
    const run = (query: SQL) => tx.execute(query);
    await run(sql`insert into companies (id, name) values ('00000000-0000-4000-b000-000000000001', 'Acme')`);
    await run(sql`insert into mail_sources (id, kind, name, address, role, status)
                  select ('00000000-0000-4000-a000-' || lpad(to_hex(s), 12, '0'))::uuid, 'api', 'Source ' || s, 'source' || s || '@bench.example', 'system', 'connected'
                    from generate_series(1, ${SOURCES}::int) s`);
    await run(sql`insert into webhook_endpoints (id, url, secret)
                  select ('00000000-0000-4000-c000-' || lpad(to_hex(e), 12, '0'))::uuid, 'http://127.0.0.1:9/hook' || e, '\\x00'::bytea
                    from generate_series(1, 2) e`);
    // One row per message: its status by its number (60 % new tickets, 20 % notes...), the last
    // 20 still waiting, and a latency drawn from a long tail (50 ms to 3 s).
    await run(sql`create temporary table seed on commit drop as
                  select i,
                         ('00000000-0000-4000-8000-' || lpad(to_hex(i), 12, '0'))::uuid as id,
                         ('00000000-0000-4000-9000-' || lpad(to_hex(i), 12, '0'))::uuid as ticket,
                         ('00000000-0000-4000-9000-' || lpad(to_hex(i - i % 100), 12, '0'))::uuid as noted_ticket,
                         ('00000000-0000-4000-a000-' || lpad(to_hex(1 + i % ${SOURCES}::int), 12, '0'))::uuid as source_id,
                         r.at as received_at,
                         case when i > ${MESSAGES}::int - 20 then null else r.at + (50 + 2950 * random() ^ 4) * interval '1 millisecond' end as processed_at,
                         case when i > ${MESSAGES}::int - 20 then 'received'
                              when i % 100 < 60 then 'ticket_created'
                              when i % 100 < 80 and i >= 100 then 'note_added'
                              when i % 100 < 88 then 'ignored'
                              when i % 100 < 92 then 'duplicate'
                              when i % 100 < 95 then 'unrouted'
                              when i % 100 < 98 then 'lead_created'
                              else 'failed' end as status
                    from generate_series(1, ${MESSAGES}::int) i,
                         lateral (select ${from}::timestamptz + (i - 1) * (${SPAN_MS}::float8 / ${MESSAGES}::int) * interval '1 millisecond' as at) r`);
    await run(sql`insert into tickets (id, subject, priority, job_type, company_id, source_id, created_at, updated_at)
                  select ticket, 'Bench ' || i, 'normal', 'Support Request', '00000000-0000-4000-b000-000000000001', source_id, processed_at, processed_at
                    from seed where status = 'ticket_created'`);
    await run(sql`insert into inbound_messages (id, source_id, provider_message_id, raw, raw_size, raw_sha256, status, error, message_id,
                                                from_address, subject, ticket_id, attempts, received_at, next_attempt_at, processed_at, created_at)
                  select id, source_id, 'bench-' || i, decode(${raw.toString("base64")}, 'base64'), ${raw.length}::int, md5(i::text), status,
                         case when status = 'failed' then 'Processing failed: bench' end, i || '@acme.example', 'customer@acme.example',
                         'The printer on the second floor is broken again',
                         case status when 'ticket_created' then ticket when 'note_added' then noted_ticket end,
                         case when status = 'received' then 0 else 1 end, received_at, received_at, processed_at, received_at
                    from seed`);
    await run(sql`insert into outbound_messages (ticket_id, source_id, kind, status, in_reply_to_inbound_id, recipient, attempts, last_error,
                                                 created_at, updated_at, sent_at)
                  select ticket, source_id, 'acknowledgement', case when i % 100 = 1 then 'failed' else 'sent' end, id, 'customer@acme.example', 1,
                         case when i % 100 = 1 then '550 mailbox unavailable' end,
                         processed_at, processed_at + interval '1 second', case when i % 100 <> 1 then processed_at + interval '1 second' end
                    from seed where status = 'ticket_created'`);
    await run(sql`insert into events (id, type, company_id, payload, created_at)
                  select 'evt_bench_' || i, 'ticket.created', '00000000-0000-4000-b000-000000000001', '{}'::jsonb, processed_at
                    from seed where status = 'ticket_created'`);
    // The last hour's deliveries of the second endpoint still wait (the backlog); the others
    // succeeded, one in twenty after a failed attempt.
    await run(sql`insert into webhook_deliveries (event_id, endpoint_id, status, attempts, next_attempt_at, created_at, updated_at, completed_at)
                  select ev.id, e.id, d.status, case when d.status = 'pending' then 0 else 1 end, ev.created_at, ev.created_at, ev.created_at,
                         case when d.status = 'succeeded' then ev.created_at + interval '50 milliseconds' end
                    from events ev cross join webhook_endpoints e,
                         lateral (select case when e.url like '%2' and ev.created_at > ${end.toISOString()}::timestamptz - interval '1 hour'
                                              then 'pending' else 'succeeded' end as status) d`);
    await run(sql`insert into webhook_attempts (delivery_id, attempted_at, status_code, duration_ms)
                  select id, completed_at, 200, 40 from webhook_deliveries where status = 'succeeded'
                  union all
                  select id, created_at + interval '10 milliseconds', 503, 10 from webhook_deliveries where status = 'succeeded' and random() < 0.05`);
  });
  for (const table of ["mail_sources", "tickets", "inbound_messages", "outbound_messages", "events", "webhook_deliveries", "webhook_attempts"]) {
    await ctx.db.execute(sql`vacuum analyze ${sql.identifier(table)}`);
  }
}

async function sizes(ctx: Context): Promise<string> {
  const rows = await queryRows<{ name: string; rows: number; mb: number }>(
    ctx.db,
    sql`select relname as name, n_live_tup::int as rows, round(pg_total_relation_size(relid) / 1048576.0)::int as mb
          from pg_stat_user_tables where relname in ('inbound_messages', 'webhook_attempts', 'outbound_messages') order by relname`,
  );
  return rows.map((r) => `${r.name} ${fmt(r.rows)} rows, ${fmt(r.mb)} MB`).join("; ");
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
