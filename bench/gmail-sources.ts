// bench:gmail-sources — many Gmail sources at once: 1,000 sources (BENCH_SOURCES) created and
// authorized through mailgate's HTTP API against the loopback fake of Google, then Pub/Sub pushes
// at 100 a second (BENCH_RATE) for 30 s (BENCH_SECONDS), each for a new mail in a random mailbox.
// mailgate runs in this process (HTTP on 127.0.0.1, the Gmail sync workers and supervisor, the
// pipeline workers) on a real Postgres; the fake Google runs in a child process
// (bench/fake-google-process.ts) that drives the whole timed schedule itself, so no IPC round trip
// paces it. Prints push → ticket latency, the rate achieved, that every push made exactly one
// ticket, CPU a push by process, and how the watches' next renewals spread over the day.
import { cpus, loadavg } from "node:os";
import { queryRows, sql } from "../src/db/client.ts";
import { startPipelineWorkers } from "../src/pipeline/worker.ts";
import { renewalDueAt } from "../src/sources/renewal-due.ts";
import { startGmailSources } from "../src/sources/gmail/runtime.ts";
import { fmt, startPhase } from "./bench-database.ts";
import type { ScheduledPush } from "./fake-google-process.ts";
import { AUDIENCE, startGmailBench } from "./gmail-bench.ts";

const SOURCES = Number(process.env.BENCH_SOURCES ?? 1000);
const RATE = Number(process.env.BENCH_RATE ?? 100);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 30);
/** Sources created and authorized side by side, as an operator's script might. */
const CREATE_CONCURRENCY = Number(process.env.BENCH_CREATE_CONCURRENCY ?? 10);
const PIPELINE_WORKERS = Number(process.env.WORKER_CONCURRENCY ?? 2);
/** Parallel Gmail syncs; unset, mailgate's default (what production runs). */
const GMAIL_CONCURRENCY = process.env.BENCH_GMAIL_CONCURRENCY ? Number(process.env.BENCH_GMAIL_CONCURRENCY) : undefined;
/** How long after the last push the tickets still missing are waited for. */
const DRAIN_MS = Number(process.env.BENCH_DRAIN_MS ?? 60_000);

type FakeStats = { cpu: NodeJS.CpuUsage; gmailCalls: number; tokenRefreshes: number };

async function main() {
  const loadAtStart = loadavg();
  const bench = await startGmailBench();
  const { google, ctx, base } = bench;
  const runtimes: { stop(): Promise<void> }[] = [];
  const now = () => performance.timeOrigin + performance.now();
  try {
    const emails = Array.from({ length: SOURCES }, (_, i) => `support-${String(i).padStart(4, "0")}@bench.acme-help.test`);
    await google.call({ method: "addMailboxes", emails });

    // Create and authorize: the operator's three calls and the user's consent, per source.
    const createStarted = performance.now();
    const perSource: number[] = [];
    let nextIndex = 0;
    const createOne = async (address: string) => {
      const started = performance.now();
      await bench.connectSource(address, `Support ${address}`);
      perSource.push(performance.now() - started);
    };
    await Promise.all(
      Array.from({ length: Math.min(CREATE_CONCURRENCY, SOURCES) }, async () => {
        while (nextIndex < emails.length) await createOne(emails[nextIndex++]!);
      }),
    );
    const createMs = performance.now() - createStarted;
    const [wrong] = await queryRows<{ n: number }>(
      ctx.db,
      sql`select count(*)::int as n from mail_sources s left join push_subscriptions p on p.source_id = s.id
          where s.kind = 'gmail' and (s.status <> 'connected' or p.id is null or p.external_id <> s.address)`,
    );
    if (wrong!.n > 0) throw new Error(`${wrong!.n} sources are not connected with a watch on their own mailbox`);

    // The runtime's start-up pass asks a sync of every mailbox; the pushes start once all are done.
    const startupStarted = performance.now();
    runtimes.push(startPipelineWorkers(ctx, { pollMs: 1000, concurrency: PIPELINE_WORKERS }));
    runtimes.push(startGmailSources(ctx, { pollMs: 1000, concurrency: GMAIL_CONCURRENCY }));
    for (;;) {
      await new Promise((r) => setTimeout(r, 250));
      const [left] = await queryRows<{ unsynced: number; requests: number }>(
        ctx.db,
        sql`select (select count(*)::int from mail_sources where kind = 'gmail' and last_sync_at is null) as unsynced,
                   (select count(*)::int from sync_requests) as requests`,
      );
      if (left!.unsynced === 0 && left!.requests === 0) break;
    }
    const startupMs = performance.now() - startupStarted;

    const renewals = await queryRows<{ id: string; expires_at: Date | null; last_renewed_at: Date | null; created_at: Date }>(
      ctx.db,
      sql`select id, expires_at, last_renewed_at, created_at from push_subscriptions where provider = 'gmail'`,
    );
    const renewalAt = renewals.map((r) =>
      renewalDueAt({ id: r.id, expiresAt: toDate(r.expires_at), lastRenewedAt: toDate(r.last_renewed_at), createdAt: toDate(r.created_at)! }).getTime(),
    );

    // Tickets as they commit: the pipeline wakes "deliveries" right after a batch's transaction;
    // one query then reads every message processed since the last one (with a margin, since
    // processed_at is stamped before the commit), and at most one such query runs at a time.
    const ticketedAt = new Map<string, number>();
    let since = new Date(0);
    let checking = false;
    let again = false;
    let checks = 0;
    const check = async (): Promise<void> => {
      if (checking) return void (again = true);
      checking = true;
      try {
        do {
          again = false;
          await readTicketed(new Date(since.getTime() - 2000));
        } while (again);
      } finally {
        checking = false;
      }
    };
    const readTicketed = async (after: Date): Promise<number> => {
      const startedAt = now();
      checks++;
      const rows = await queryRows<{ provider_message_id: string; processed_at: Date | string }>(
        ctx.db,
        sql`select provider_message_id, processed_at from inbound_messages where processed_at > ${after.toISOString()}::timestamptz and ticket_id is not null`,
      );
      let added = 0;
      for (const row of rows) {
        // Committed before this query began: its start is the time the ticket was seen.
        if (!ticketedAt.has(row.provider_message_id)) {
          ticketedAt.set(row.provider_message_id, startedAt);
          added++;
        }
        const at = toDate(row.processed_at)!;
        if (at > since) since = at;
      }
      return added;
    };
    const offWake = ctx.database.onWake("deliveries", () => void check());
    // A fallback only: the wake above is what stops the clock.
    const poll = setInterval(() => void check(), 1000);
    // Once a second, where work waits: mailboxes to sync, and stored mail not yet in a ticket.
    const peak = { syncs: 0, syncsAt: 0, stored: 0, storedAt: 0 };
    const sampledFrom = performance.now();
    const backlog = setInterval(() => {
      void queryRows<{ syncs: number; stored: number }>(
        ctx.db,
        sql`select (select count(*)::int from sync_requests) as syncs, (select count(*)::int from inbound_messages where status = 'received') as stored`,
      ).then(([row]) => {
        const at = (performance.now() - sampledFrom) / 1000;
        if (row!.syncs > peak.syncs) Object.assign(peak, { syncs: row!.syncs, syncsAt: at });
        if (row!.stored > peak.stored) Object.assign(peak, { stored: row!.stored, storedAt: at });
      });
    }, 1000);

    const fakeBefore = (await google.call({ method: "stats" })) as FakeStats;
    const phase = await startPhase(ctx, "gmail-sources-mailgate");
    const scheduleStarted = performance.now();
    const pushes = (await google.call({ method: "schedule", endpoint: `${base}/push/gmail`, audience: AUDIENCE, mailboxes: emails, rate: RATE, seconds: SECONDS })) as ScheduledPush[];
    const scheduleMs = performance.now() - scheduleStarted;
    const refused = pushes.filter((p) => p.status !== 204);
    if (refused.length) throw new Error(`${refused.length} pushes were refused, the first: ${refused[0]!.status} ${refused[0]!.body}`);
    const drainUntil = performance.now() + DRAIN_MS;
    while (pushes.some((p) => !ticketedAt.has(p.messageId)) && performance.now() < drainUntil) {
      await new Promise((r) => setTimeout(r, 100));
      await check();
    }
    // A ticket whose batch committed more than the margin after stamping processed_at escaped the
    // watch above: read everything once, and count those apart (their latency is overstated).
    const escaped = await readTicketed(new Date(0));
    const { cpu, wallMs: wall, threads, databaseSeconds: dbCpu, profileFile } = await phase.stop();
    const fakeAfter = (await google.call({ method: "stats" })) as FakeStats;
    const loadAtEnd = loadavg();
    offWake();
    clearInterval(poll);
    clearInterval(backlog);

    // Once each: a message stored twice, or in two tickets, shows here.
    const [counts] = await queryRows<{ rows: number; ids: number; ticketed: number; tickets: number; all_tickets: number }>(
      ctx.db,
      sql`select count(*)::int as rows, count(distinct provider_message_id)::int as ids, count(ticket_id)::int as ticketed,
                 count(distinct ticket_id)::int as tickets, (select count(*)::int from tickets) as all_tickets
          from inbound_messages`,
    );
    const [twice] = await queryRows<{ n: number }>(
      ctx.db,
      sql`select count(*)::int as n from (select provider_message_id from inbound_messages group by provider_message_id
          having count(*) > 1 or count(distinct ticket_id) > 1) d`,
    );
    const latency = pushes.filter((p) => ticketedAt.has(p.messageId)).map((p) => ticketedAt.get(p.messageId)! - p.sentAt);
    const missing = pushes.length - latency.length;
    const firstSent = Math.min(...pushes.map((p) => p.sentAt));
    const lastSent = Math.max(...pushes.map((p) => p.sentAt));
    const achieved = pushes.length / ((lastSent - firstSent) / 1000);
    const lastTicketed = Math.max(...ticketedAt.values());
    const acks = pushes.map((p) => p.ackMs);
    const late = pushes.map((p) => p.lateMs);

    const pct = (xs: number[], p: number) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)]! : NaN);
    const perPush = (seconds: number) => fmt((seconds * 1000) / pushes.length, 2);
    const mailgateCpu = (cpu.user + cpu.system) / 1e6;
    const fakeCpu = (fakeAfter.cpu.user + fakeAfter.cpu.system - (fakeBefore.cpu.user + fakeBefore.cpu.system)) / 1e6;
    const gmailCalls = fakeAfter.gmailCalls - fakeBefore.gmailCalls;
    const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(" ");
    const mailboxesPushed = new Set(pushes.map((p) => p.mailbox)).size;

    console.log(`bench:gmail-sources  sources=${fmt(SOURCES)} rate=${fmt(RATE)}/s seconds=${fmt(SECONDS)} database=postgres, fake Google in a child process on loopback, ${PIPELINE_WORKERS} pipeline workers, ${GMAIL_CONCURRENCY ?? "the default number of"} Gmail sync workers`);
    console.log(`  machine: ${cpus().length} cores, load average ${load(loadAtStart)} at the start, ${load(loadAtEnd)} at the end (other work on the machine shows in the tail)`);
    console.log(`  ${fmt(SOURCES)} sources created and authorized in ${fmt(createMs / 1000, 1)} s (${fmt(SOURCES / (createMs / 1000), 1)}/s, ${CREATE_CONCURRENCY} at a time; one source p50 ${fmt(pct(perSource, 50))} ms, p99 ${fmt(pct(perSource, 99))} ms), every one connected with a watch`);
    console.log(`  start-up sync of the ${fmt(SOURCES)} mailboxes (runtime start → no sync request left) ${fmt(startupMs / 1000, 1)} s`);
    console.log(`  pushes ${fmt(pushes.length)} over ${fmt(mailboxesPushed)} mailboxes in ${fmt((lastSent - firstSent) / 1000, 1)} s: ${fmt(achieved, 1)}/s achieved (asked ${fmt(RATE)}/s); sent behind plan p50 ${fmt(pct(late, 50), 1)} ms, max ${fmt(Math.max(...late), 1)} ms`);
    console.log(`  push received → ticket committed  p50 ${fmt(pct(latency, 50), 1)} ms   p90 ${fmt(pct(latency, 90), 1)} ms   p99 ${fmt(pct(latency, 99), 1)} ms   max ${fmt(Math.max(...latency), 1)} ms`);
    console.log(
      `  backlog at its peak (sampled each second): ${fmt(peak.syncs)} mailboxes waiting for a sync (at ${fmt(peak.syncsAt, 1)} s), ${fmt(peak.stored)} messages stored waiting for the pipeline (at ${fmt(peak.storedAt, 1)} s)`,
    );
    console.log(`  push received → 204               p50 ${fmt(pct(acks, 50), 1)} ms   p99 ${fmt(pct(acks, 99), 1)} ms   max ${fmt(Math.max(...acks), 1)} ms`);
    console.log(
      `  tickets: ${fmt(latency.length)} of ${fmt(pushes.length)} pushes ticketed (${fmt(latency.length / ((lastTicketed - firstSent) / 1000), 1)}/s from the first push to the last ticket), ${fmt(missing)} missing; inbound_messages ${fmt(counts!.rows)} rows for ${fmt(counts!.ids)} provider message ids, ${fmt(counts!.ticketed)} with a ticket, ${fmt(counts!.tickets)} distinct tickets (${fmt(counts!.all_tickets)} in all), ${fmt(twice!.n)} ids stored or ticketed twice`,
    );
    console.log(
      `  CPU a push (from the first push until the last ticket, ${fmt(wall / 1000, 1)} s): mailgate ${perPush(mailgateCpu)} ms (${fmt((mailgateCpu * 1000 * 100) / wall)} % of one core), fake Google ${perPush(fakeCpu)} ms (${fmt((fakeCpu * 1000 * 100) / wall)} %), Postgres ${perPush(dbCpu)} ms (${fmt((dbCpu * 1000 * 100) / wall)} %)`,
    );
    console.log(`    Postgres's includes this bench's own ${fmt(checks)} queries for the tickets committed (at most one per pipeline wake, never two at once)${escaped ? `; ${fmt(escaped)} tickets were seen only by the final full read` : ""}`);
    if (threads) {
      console.log(`    mailgate's threads a push: JavaScript ${perPush(threads.main.run)} ms (waited for a CPU ${perPush(threads.main.wait)} ms), the others (GC helpers, compiler, libuv) ${perPush(threads.others.run)} ms`);
    }
    if (profileFile) console.log(`  CPU profile of mailgate from the first push to the last ticket: ${profileFile}`);
    console.log(`  Gmail API calls ${fmt(gmailCalls)} (${fmt(gmailCalls / pushes.length, 2)} a push), token refreshes ${fakeAfter.tokenRefreshes - fakeBefore.tokenRefreshes}; the schedule took ${fmt(scheduleMs / 1000, 1)} s`);
    printRenewals(renewalAt);
  } finally {
    for (const r of runtimes.reverse()) await r.stop();
    await bench.close();
  }
}

/** How the watches' next renewals spread: their span and the busiest hour's (and minute's) share. */
function printRenewals(dueAt: number[]) {
  const first = Math.min(...dueAt);
  const last = Math.max(...dueAt);
  const busiest = (widthMs: number) => {
    // The window of widthMs starting at some renewal that holds the most renewals (two pointers).
    const sorted = [...dueAt].sort((a, b) => a - b);
    let best = 0;
    let bestStart = sorted[0]!;
    for (let i = 0, j = 0; i < sorted.length; i++) {
      while (j < sorted.length && sorted[j]! < sorted[i]! + widthMs) j++;
      if (j - i > best) [best, bestStart] = [j - i, sorted[i]!];
    }
    return { count: best, start: bestStart };
  };
  const hour = busiest(3600_000);
  const minute = busiest(60_000);
  const fromNow = (t: number) => `${fmt((t - Date.now()) / 3600_000, 2)} h`;
  console.log(
    `  next watch renewals of the ${fmt(dueAt.length)} watches: from ${fromNow(first)} to ${fromNow(last)} from now (span ${fmt((last - first) / 3600_000, 2)} h); busiest hour ${fmt(hour.count)} (${fmt((hour.count / dueAt.length) * 100, 1)} %) from ${fromNow(hour.start)}, busiest minute ${fmt(minute.count)} (${fmt((minute.count / dueAt.length) * 100, 1)} %)`,
  );
  const buckets = new Map<number, number>();
  for (const t of dueAt) {
    const h = Math.floor((t - first) / 3600_000);
    buckets.set(h, (buckets.get(h) ?? 0) + 1);
  }
  const hours = Math.floor((last - first) / 3600_000) + 1;
  const shares = Array.from({ length: hours }, (_, h) => `+${h} h ${fmt(((buckets.get(h) ?? 0) / dueAt.length) * 100, 1)} %`);
  console.log(`    by hour after the first: ${shares.join(", ")}`);
}

const toDate = (v: Date | string | null) => (v === null ? null : v instanceof Date ? v : new Date(v));

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
