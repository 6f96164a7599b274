// bench:graph-sources — many Microsoft 365 mailboxes at once: BENCH_SOURCES Graph sources (1,000)
// created and authorized through mailgate's API against the fake Microsoft, then change
// notifications at BENCH_RATE a second (100) over random mailboxes for BENCH_SECONDS (30):
// notification sent → ticket committed, nothing missing or twice, CPU a notification for mailgate,
// the fake Microsoft and Postgres, and how the subscriptions' next renewals spread over time.
// mailgate (HTTPS app, Graph workers, pipeline workers) runs in this process on Postgres; the fake
// Microsoft runs in a child process (bench/fake-microsoft-process.ts) so each side's CPU is its own.
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import { cpus, loadavg } from "node:os";
import { sql } from "drizzle-orm";
import type { Context } from "../src/context.ts";
import { queryRows, type Channel } from "../src/db/client.ts";
import { companies, companyDomains, pushSubscriptions } from "../src/db/schema.ts";
import { createApp } from "../src/http/app.ts";
import { startPipelineWorkers } from "../src/pipeline/worker.ts";
import { renewalDueAt } from "../src/sources/renewal-due.ts";
import { startGraphSources } from "../src/sources/graph/runtime.ts";
import type { AppRegistration } from "../tests/fakes/microsoft/fake-identity.ts";
import { testCertificate, trustTestCertificate } from "../tests/fakes/microsoft/test-certificate.ts";
import { startCpuProfile } from "./cpu-profile.ts";
import { benchContext, cpuSpent, databaseCpuSeconds, fmt, threadTimes, threadTimesSpent, type ThreadTimes } from "./bench-database.ts";
import type { FakeMicrosoftCall, FakeMicrosoftStats, Sent } from "./fake-microsoft-process.ts";
import { startBenchChild, type BenchChild } from "./child-process.ts";

const SOURCES = Number(process.env.BENCH_SOURCES ?? 1000);
const RATE = Number(process.env.BENCH_RATE ?? 100);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 30);
/** Sources created and authorized at once, as a script of an administrator's would. */
const CREATE_CONCURRENCY = Number(process.env.BENCH_CREATE_CONCURRENCY ?? 16);
const PREFIX = "graph-sources bench ";

type Microsoft = BenchChild<FakeMicrosoftCall>;

const now = () => performance.timeOrigin + performance.now();

async function main() {
  trustTestCertificate();
  const microsoft = await startBenchChild<FakeMicrosoftCall>(new URL("./fake-microsoft-process.ts", import.meta.url), "fake Microsoft");
  const { env, app } = (await microsoft.call({ method: "describe" })) as { env: Record<string, string>; app: AppRegistration };
  const server = createServer({ cert: testCertificate.cert, key: testCertificate.key });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const publicUrl = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const { ctx, close } = await benchContext({ ...env, PUBLIC_URL: publicUrl });
  server.on("request", createApp(ctx));
  const runtimes = [startGraphSources(ctx), startPipelineWorkers(ctx)];
  try {
    const [company] = await ctx.db.insert(companies).values({ name: "Acme" }).returning();
    await ctx.db.insert(companyDomains).values({ domain: "acme.com", companyId: company!.id });
    const mails = (await microsoft.call({ method: "addUsers", count: SOURCES })) as string[];
    console.log(`bench:graph-sources  sources=${fmt(SOURCES)} rate=${RATE}/s seconds=${SECONDS} database=postgres, fake Microsoft in a child process (HTTPS both ways)`);
    console.log(`  machine: ${cpus().length} cores, load average ${loadLine()} at the start`);

    // Creating and authorizing every source, watching the fake for live subscriptions meanwhile.
    const setupBefore = await usage(ctx, microsoft);
    const subscribed = watchSubscriptions(microsoft, setupBefore.at);
    await createSources(ctx, microsoft, publicUrl, app, mails);
    const created = await usage(ctx, microsoft);
    const allLiveAt = await subscribed.all(SOURCES, 30 * 60_000);
    const settledAt = await queueEmpty(ctx, 120_000);
    const setup = spent(setupBefore, await usage(ctx, microsoft));
    const sec = (at: number | null) => (at === null ? "never" : `${fmt((at - setupBefore.at) / 1000, 1)} s`);
    console.log(`\n  ${fmt(SOURCES)} sources created and authorized (${CREATE_CONCURRENCY} at a time) in ${sec(created.at)}; all ${fmt(SOURCES)} had a live subscription after ${sec(allLiveAt)}; their first catch-ups done after ${sec(settledAt)}`);
    console.log(`  setup CPU a source: ${cpuLine(setup, SOURCES)}`);
    await renewalSpread(ctx);

    // Notifications at RATE a second over random mailboxes; the child keeps the schedule.
    const to = Array.from({ length: RATE * SECONDS }, () => mails[Math.floor(Math.random() * mails.length)]!);
    const startAt = now() + 500;
    const watcher = ticketWatcher(ctx, to.length, startAt);
    const wakes = countWakes(ctx);
    const profile = await startCpuProfile(process.env.BENCH_CPU_PROFILE, "graph-sources-mailgate");
    const before = await usage(ctx, microsoft);
    const sent = (await microsoft.call({ method: "run", prefix: PREFIX, to, rate: RATE, startAt })) as Sent[];
    const sentTimes = sent.map((x) => x.sentAt);
    const sendingMs = Math.max(...sentTimes) - Math.min(...sentTimes);
    await watcher.allCommitted(20_000);
    const after = await usage(ctx, microsoft);
    const profileFile = await profile.stop();
    watcher.stop();
    wakes.stop();
    await report(ctx, sent, watcher.committedAt, spent(before, after), sendingMs, after.fake.requests, before.fake.requests);
    console.log(`  wakes a notification (on Postgres each is also a NOTIFY statement): ${[...wakes.counts].map(([c, n]) => `${c} ${fmt(n / sent.length, 2)}`).join(", ")}`);
    if (profileFile) console.log(`  CPU profile of mailgate over the notifications: ${profileFile}`);
    console.log(`  this bench's own queries for committed tickets: ${fmt(watcher.stats.queries)} (${fmt(watcher.stats.queries / sent.length, 2)} a notification, counted in the transactions above)`);
  } finally {
    for (const r of runtimes.reverse()) await r.stop();
    server.closeAllConnections();
    server.close();
    await close();
    microsoft.stop();
  }
}

/** POST /api/sources, authorize, the user's consent at the fake as that mailbox, the callback: CREATE_CONCURRENCY at a time. */
async function createSources(ctx: Context, microsoft: Microsoft, publicUrl: string, app: AppRegistration, mails: string[]) {
  const api = async (p: string, body: unknown) => {
    const res = await fetch(`${publicUrl}/api${p}`, {
      method: "POST",
      headers: { Authorization: `Bearer ${ctx.adminToken}`, "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`POST /api${p} answered ${res.status}: ${await res.text()}`);
    return (await res.json()) as Record<string, string>;
  };
  let next = 0;
  const one = async (mail: string) => {
    const source = await api("/sources", {
      kind: "graph",
      name: `Support ${mail}`,
      address: mail,
      role: "system",
      graph: { tenantId: app.tenantId, clientId: app.clientId, clientSecret: app.clientSecret, redirectUri: `${publicUrl}/admin/oauth/microsoft/callback` },
    });
    const { authorizationUrl } = await api(`/sources/${source.id}/authorize`, {});
    const callback = (await microsoft.call({ method: "consent", url: authorizationUrl!, mail })) as string;
    const page = await fetch(callback);
    if (page.status !== 200) throw new Error(`authorization of ${mail} failed: ${page.status} ${await page.text()}`);
  };
  await Promise.all(
    Array.from({ length: CREATE_CONCURRENCY }, async () => {
      while (next < mails.length) await one(mails[next++]!);
    }),
  );
}

/** Polls the fake (4 times a second) for how many mailboxes have a live subscription. */
function watchSubscriptions(microsoft: Microsoft, since: number) {
  return {
    all: async (n: number, timeoutMs: number): Promise<number | null> => {
      while (now() - since < timeoutMs) {
        if (((await microsoft.call({ method: "subscribedUsers" })) as number) >= n) return now();
        await new Promise((r) => setTimeout(r, 250));
      }
      return null;
    },
  };
}

/** Resolves when mailgate's Graph work queue (catch-ups, fetches) is empty, or null after the timeout. */
async function queueEmpty(ctx: Context, timeoutMs: number): Promise<number | null> {
  const until = now() + timeoutMs;
  while (now() < until) {
    const [row] = await queryRows<{ n: number }>(ctx.db, sql`select count(*)::int as n from sync_requests`);
    if (row!.n === 0) return now();
    await new Promise((r) => setTimeout(r, 250));
  }
  return null;
}

/**
 * When each subject's ticket committed (the time of the "deliveries" wake that follows the commit).
 * One query a wake for every subject due by then and not yet seen, bounded by created_at.
 */
function ticketWatcher(ctx: Context, count: number, startAt: number) {
  const committedAt = new Map<string, number>();
  const stats = { queries: 0 };
  const unseen = new Set<number>();
  let added = 0;
  let wokeAt: number | null = null;
  let checking = false;
  let allDone = () => {};
  const done = new Promise<void>((resolve) => (allDone = resolve));
  const check = async (at: number) => {
    const due = Math.min(count, Math.floor(((at - startAt) * RATE) / 1000) + 1);
    while (added < due) unseen.add(added++);
    if (unseen.size === 0) return;
    // Nothing is sent before its scheduled time, so no ticket of these is older than the first's.
    const since = new Date(startAt + (Math.min(...unseen) * 1000) / RATE - 1000).toISOString();
    stats.queries++;
    const rows = await queryRows<{ subject: string }>(
      ctx.db,
      sql`select subject from tickets where created_at >= ${since}::timestamptz and subject in (${sql.join([...unseen].map((i) => sql`${PREFIX + i}`), sql`, `)})`,
    );
    for (const { subject } of rows) {
      if (committedAt.has(subject)) continue;
      committedAt.set(subject, at);
      unseen.delete(Number(subject.slice(PREFIX.length)));
    }
    if (committedAt.size >= count) allDone();
  };
  const wake = () => {
    wokeAt ??= now();
    if (checking) return;
    checking = true;
    void (async () => {
      try {
        while (wokeAt !== null) {
          const at = wokeAt;
          wokeAt = null;
          await check(at);
        }
      } finally {
        checking = false;
      }
    })();
  };
  const unsubscribe = ctx.database.onWake("deliveries", wake);
  // A fallback only: the wake is what stops the clock.
  const poll = setInterval(wake, 1000);
  return {
    committedAt,
    stats,
    /** Resolves when every ticket committed, or when none more did for `stallMs` (a backlog still draining counts as progress). */
    allCommitted: async (stallMs: number) => {
      let seen = -1;
      let progressAt = now();
      const stalled = new Promise<void>((resolve) => {
        const timer = setInterval(() => {
          if (committedAt.size !== seen) [seen, progressAt] = [committedAt.size, now()];
          if (committedAt.size >= count || now() - progressAt > stallMs) {
            clearInterval(timer);
            resolve();
          }
        }, 500);
      });
      await Promise.race([done, stalled]);
    },
    stop: () => {
      unsubscribe();
      clearInterval(poll);
    },
  };
}

/** How often mailgate woke each channel: this process hears its own wakes in-process. */
function countWakes(ctx: Context) {
  const counts = new Map<Channel, number>();
  const channels: Channel[] = ["graph_sync", "inbound", "deliveries", "sources", "outbound"];
  const offs = channels.map((c) => ctx.database.onWake(c, () => void counts.set(c, (counts.get(c) ?? 0) + 1)));
  return { counts, stop: () => offs.forEach((off) => off()) };
}

type Usage = { at: number; mailgate: NodeJS.CpuUsage; threads: ThreadTimes | null; database: Map<number, number>; transactions: number; fake: FakeMicrosoftStats };
type Spent = { wallSeconds: number; mailgate: number; fake: number; database: number; transactions: number; threads: ReturnType<typeof threadTimesSpent> };

async function usage(ctx: Context, microsoft: Microsoft): Promise<Usage> {
  const fake = (await microsoft.call({ method: "stats" })) as FakeMicrosoftStats;
  // Committed transactions of this database so far (the statistics collector lags by up to a second).
  const [stat] = await queryRows<{ n: number }>(ctx.db, sql`select xact_commit::int as n from pg_stat_database where datname = current_database()`);
  return { at: now(), mailgate: process.cpuUsage(), threads: threadTimes(), database: await databaseCpuSeconds(ctx), transactions: stat!.n, fake };
}

function spent(a: Usage, b: Usage): Spent {
  const seconds = (c: NodeJS.CpuUsage) => (c.user + c.system) / 1e6;
  return {
    wallSeconds: (b.at - a.at) / 1000,
    mailgate: seconds(b.mailgate) - seconds(a.mailgate),
    fake: seconds(b.fake.cpu) - seconds(a.fake.cpu),
    database: cpuSpent(a.database, b.database),
    transactions: b.transactions - a.transactions,
    threads: threadTimesSpent(a.threads, b.threads),
  };
}

const cpuLine = (s: Spent, n: number) => {
  const ms = (seconds: number) => `${fmt((seconds * 1000) / n, 2)} ms`;
  const cores = (seconds: number) => fmt(seconds / s.wallSeconds, 2);
  return `mailgate ${ms(s.mailgate)}, fake Microsoft ${ms(s.fake)}, Postgres ${ms(s.database)} (cores busy over ${fmt(s.wallSeconds, 1)} s: mailgate ${cores(s.mailgate)}, fake ${cores(s.fake)}, Postgres ${cores(s.database)})`;
};

const loadLine = () => loadavg().map((l) => l.toFixed(2)).join(" ");

/** When each subscription comes due for renewal, by renewal-due.ts: the span and the busiest windows. */
async function renewalSpread(ctx: Context) {
  const rows = await ctx.db.select().from(pushSubscriptions);
  const due = rows.map((r) => renewalDueAt(r).getTime()).sort((a, b) => a - b);
  const created = Math.min(...rows.map((r) => (r.lastRenewedAt ?? r.createdAt).getTime()));
  const busiest = (windowMs: number) => {
    let best = 0;
    for (let i = 0, j = 0; i < due.length; i++) {
      while (due[i]! - due[j]! >= windowMs) j++;
      best = Math.max(best, i - j + 1);
    }
    return `${fmt(best)} (${fmt((best / due.length) * 100, 1)} %)`;
  };
  const hours = (ms: number) => `${fmt(ms / 3_600_000, 2)} h`;
  const lifetimes = rows.map((r) => r.expiresAt!.getTime() - (r.lastRenewedAt ?? r.createdAt).getTime());
  console.log(
    `  subscriptions: ${fmt(rows.length)}, lifetime ${hours(Math.min(...lifetimes))}-${hours(Math.max(...lifetimes))}; next renewals from ${hours(due[0]! - created)} to ${hours(due.at(-1)! - created)} after the first was created (a span of ${hours(due.at(-1)! - due[0]!)})`,
  );
  console.log(`  busiest window of next renewals: 1 minute ${busiest(60_000)}, 10 minutes ${busiest(600_000)}, 1 hour ${busiest(3_600_000)}`);
  const perHour = new Map<number, number>();
  for (const d of due) perHour.set(Math.floor((d - due[0]!) / 3_600_000), (perHour.get(Math.floor((d - due[0]!) / 3_600_000)) ?? 0) + 1);
  console.log(`  next renewals per hour from the first: ${[...perHour.entries()].map(([h, n]) => `+${h} h ${n}`).join(", ")}`);
}

async function report(ctx: Context, sent: Sent[], committedAt: Map<string, number>, s: Spent, sendingMs: number, fakeAfter: Record<string, number>, fakeBefore: Record<string, number>) {
  const latencies = sent.filter((x) => committedAt.has(x.subject)).map((x) => committedAt.get(x.subject)! - x.sentAt);
  const acks = sent.map((x) => x.ackMs).filter(Number.isFinite);
  const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)]!;
  const line = (xs: number[]) =>
    xs.length === 0 ? "none" : `p50 ${fmt(pct(xs, 50), 1)} ms   p90 ${fmt(pct(xs, 90), 1)} ms   p99 ${fmt(pct(xs, 99), 1)} ms   max ${fmt(Math.max(...xs), 1)} ms`;
  const tickets = await queryRows<{ subject: string; n: number }>(
    ctx.db,
    sql`select subject, count(*)::int as n from tickets where subject like ${`${PREFIX}%`} group by subject`,
  );
  const twice = tickets.filter((t) => t.n > 1).length;
  const refused = sent.filter((x) => x.status !== 202);
  const planned = sent.length;
  console.log(`\n  notifications sent: ${fmt(sent.length)} to ${fmt(new Set(sent.map((x) => x.to)).size)} random mailboxes in ${fmt(sendingMs / 1000, 1)} s (${fmt((sent.length - 1) / (sendingMs / 1000), 1)}/s achieved, ${RATE}/s asked), ${refused.length === 0 ? "all answered 202" : `${refused.length} not answered 202 (first: ${refused[0]!.status} ${refused[0]!.error ?? ""})`}`);
  console.log(`  notification sent → ticket committed   ${line(latencies)}   (goal p99 < 100 ms)`);
  console.log(`  notification sent → 202 answered      ${line(acks)}`);
  console.log(
    `  tickets made ${fmt(tickets.length)} of ${fmt(planned)}: missing ${fmt(planned - tickets.length)}${tickets.length < planned ? " (none more came for 20 s)" : ""}, made twice ${twice}; ${fmt(latencies.length / s.wallSeconds, 1)} tickets/s from the first notification to the last ticket`,
  );
  console.log(`  CPU a notification: ${cpuLine(s, sent.length)}`);
  console.log(`  Postgres transactions committed a notification: ${fmt(s.transactions / sent.length, 1)}`);
  if (s.threads) {
    const busy = (x: number) => `${fmt((x / s.wallSeconds) * 100)} %`;
    console.log(`  mailgate's JavaScript thread on a CPU ${busy(s.threads.main.run)} of the time, runnable but waiting for one ${busy(s.threads.main.wait)}; its other threads on a CPU ${busy(s.threads.others.run)}`);
  }
  const calls = Object.entries(fakeAfter)
    .map(([k, n]) => [k, n - (fakeBefore[k] ?? 0)] as const)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${k} ${fmt(n)}`);
  console.log(`  Graph calls during the run: ${calls.join(", ")}`);
  console.log(`  load average at the end ${loadLine()} (${cpus().length} cores)`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
