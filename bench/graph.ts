// bench:graph — Microsoft 365 in real time: a Graph change notification received → the ticket
// committed, p50/p99 over 500 notifications. The fake Microsoft Graph (HTTPS, loopback) sends the
// notifications and serves $value; mailgate runs its HTTPS app, the Graph workers and the pipeline
// worker in this process against real Postgres (BENCH_DATABASE=pglite: the embedded database).
//
// Two runs: one notification at a time (latency with nothing queued), then a burst with
// BENCH_CONCURRENCY notifications in flight (latency under load, and throughput).
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import { mkdtempSync } from "node:fs";
import os, { cpus, loadavg } from "node:os";
import path from "node:path";
import { eq, sql } from "drizzle-orm";
import { buildContext } from "../src/boot.ts";
import { parseConfig } from "../src/config.ts";
import type { Context } from "../src/context.ts";
import { queryRows } from "../src/db/client.ts";
import { companies, companyDomains, mailSources } from "../src/db/schema.ts";
import { createApp } from "../src/http/app.ts";
import { startPipelineWorkers } from "../src/pipeline/worker.ts";
import { startGraphSources } from "../src/sources/graph/runtime.ts";
import { startFakeMicrosoft, type FakeMicrosoft } from "../tests/fakes/microsoft/fake-microsoft.ts";
import { testCertificate, trustTestCertificate } from "../tests/fakes/microsoft/test-certificate.ts";
import { buildEmail } from "../tests/helpers/build-email.ts";
import { benchContext, fmt, startPhase, type PhaseCost } from "./bench-database.ts";

const COUNT = Number(process.env.BENCH_NOTIFICATIONS ?? 500);
const WARMUP = 20;
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 20);
const TOKEN = "bench-token-0123456789";

async function main() {
  trustTestCertificate();
  const fake = await startFakeMicrosoft();
  const server = createServer({ cert: testCertificate.cert, key: testCertificate.key });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const publicUrl = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const env = { ...fake.env(), PUBLIC_URL: publicUrl, LOG_LEVEL: "warn" };
  const { ctx, close } = process.env.BENCH_DATABASE === "pglite" ? await embeddedContext(env) : await benchContext(env);
  server.on("request", createApp(ctx));
  try {
    const sourceId = await authorizedSource(ctx, fake, publicUrl);
    const graph = startGraphSources(ctx);
    const pipeline = startPipelineWorkers(ctx);
    const committed = ticketWatcher(ctx, sourceId);
    try {
      await sequential(fake, committed, WARMUP, "warm-up");
      const one = await sequential(fake, committed, COUNT, "seq");
      const burst = await measured(ctx, "graph-burst", () => concurrent(fake, committed, COUNT, CONCURRENCY));
      report(ctx, one, burst);
      cpuReport(burst);
      await stages(ctx, "one at a time", "seq-");
      await stages(ctx, "burst", "burst-");
    } finally {
      committed.stop();
      await pipeline.stop();
      await graph.stop();
    }
  } finally {
    server.closeAllConnections();
    server.close();
    await fake.close();
    await close();
  }
}

/** A source created and authorized through the API and the fake's consent, as an administrator would. */
async function authorizedSource(ctx: Context, fake: FakeMicrosoft, publicUrl: string): Promise<string> {
  const [company] = await ctx.db.insert(companies).values({ name: "Acme" }).returning();
  await ctx.db.insert(companyDomains).values({ domain: "acme.com", companyId: company!.id });
  const api = (p: string, body: unknown) =>
    fetch(`${publicUrl}/api${p}`, {
      method: "POST",
      headers: { Authorization: `Bearer ${TOKEN}`, "Content-Type": "application/json" },
      body: JSON.stringify(body),
    }).then((r) => r.json() as Promise<Record<string, string>>);
  const source = await api("/sources", {
    kind: "graph",
    name: "Support (Microsoft 365)",
    address: fake.user.mail,
    role: "system",
    graph: { tenantId: fake.app.tenantId, clientId: fake.app.clientId, clientSecret: fake.app.clientSecret, redirectUri: `${publicUrl}/admin/oauth/microsoft/callback` },
  });
  const { authorizationUrl } = await api(`/sources/${source.id}/authorize`, {});
  const page = await fetch(await fake.consent(authorizationUrl!));
  if (page.status !== 200) throw new Error(`authorization failed: ${await page.text()}`);
  const [row] = await ctx.db.select({ status: mailSources.status }).from(mailSources).where(eq(mailSources.id, source.id!));
  if (row?.status !== "connected" || fake.subscriptions.liveOnes().length !== 1) throw new Error("the source did not connect");
  return source.id!;
}

type Watcher = { committed(subject: string): Promise<number>; stop(): void };

/** Wall-clock times per subject: sent by the fake, and committed; the stages between come from the rows. */
const sentAt = new Map<string, number>();
const committedAt = new Map<string, number>();
/** How long our push endpoint took to answer Graph, per run (by subject prefix). */
const acknowledged = new Map<string, number[]>();

/** Resolves when the ticket of a subject is committed: the pipeline wakes "deliveries" after each commit. */
function ticketWatcher(ctx: Context, sourceId: string): Watcher {
  const waiting = new Map<string, (at: number) => void>();
  let checking = false;
  let again = false;
  const check = async () => {
    if (checking) return void (again = true);
    checking = true;
    const at = performance.now();
    try {
      const subjects = [...waiting.keys()];
      const rows =
        subjects.length === 0
          ? []
          : await queryRows<{ subject: string }>(
              ctx.db,
              sql`select subject from tickets where source_id = ${sourceId}::uuid and subject in (${sql.join(subjects.map((s) => sql`${s}`), sql`, `)})`,
            );
      for (const { subject } of rows) {
        committedAt.set(subject, Date.now() - (performance.now() - at));
        waiting.get(subject)?.(at);
        waiting.delete(subject);
      }
    } finally {
      checking = false;
      if (again) {
        again = false;
        void check();
      }
    }
  };
  const unsubscribe = ctx.database.onWake("deliveries", () => void check());
  return {
    committed: (subject) => new Promise<number>((resolve) => waiting.set(subject, resolve)),
    stop: unsubscribe,
  };
}

async function sequential(fake: FakeMicrosoft, watcher: Watcher, n: number, tag: string): Promise<number[]> {
  const latencies: number[] = [];
  for (let i = 0; i < n; i++) latencies.push(await roundTrip(fake, watcher, `${tag}-${i}`));
  return latencies;
}

async function concurrent(fake: FakeMicrosoft, watcher: Watcher, n: number, inFlight: number) {
  const latencies: number[] = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < n) latencies.push(await roundTrip(fake, watcher, `burst-${next++}`));
    }),
  );
  return { latencies, seconds: (performance.now() - t0) / 1000 };
}

async function roundTrip(fake: FakeMicrosoft, watcher: Watcher, subject: string): Promise<number> {
  const raw = buildEmail({ from: "john@acme.com", subject, text: `Bench message ${subject}.` });
  const done = watcher.committed(subject);
  const sent = performance.now();
  sentAt.set(subject, Date.now());
  const { deliveries } = await fake.deliver(raw);
  if (deliveries[0]?.status !== 202) throw new Error(`notification answered ${deliveries[0]?.status}: ${deliveries[0]?.error ?? ""}`);
  const prefix = subject.replace(/\d+$/, "");
  acknowledged.set(prefix, [...(acknowledged.get(prefix) ?? []), deliveries[0].ms]);
  return (await done) - sent;
}

type Cpu = Pick<PhaseCost, "cpu" | "threads" | "databaseSeconds"> & { wallSeconds: number };

/** The burst with this process's CPU (mailgate and the fake Microsoft), its threads' run and wait times, and Postgres's CPU. */
async function measured<T extends { seconds: number }>(ctx: Context, name: string, run: () => Promise<T>): Promise<T & Cpu> {
  const phase = await startPhase(ctx, name);
  const result = await run();
  const { cpu, threads, databaseSeconds, profileFile } = await phase.stop();
  if (profileFile) console.log(`CPU profile of the burst: ${profileFile}`);
  return { ...result, cpu, threads, databaseSeconds, wallSeconds: result.seconds };
}

/** What bounds the burst: a JavaScript thread busy nearly all the time is CPU-bound; Postgres's share says what the database costs. */
function cpuReport(burst: Cpu) {
  const perNotification = (seconds: number) => `${fmt((seconds * 1000) / COUNT, 2)} ms`;
  const busy = (seconds: number) => `${fmt((seconds / burst.wallSeconds) * 100)} %`;
  const processSeconds = (burst.cpu.user + burst.cpu.system) / 1e6;
  console.log(`  burst CPU per notification: this process (mailgate + fake Microsoft) ${perNotification(processSeconds)}, Postgres ${perNotification(burst.databaseSeconds)}`);
  if (burst.threads) {
    const { main, others } = burst.threads;
    console.log(
      `  burst, this process's JavaScript thread: on a CPU ${busy(main.run)} of the time, runnable but waiting for one ${busy(main.wait)}; other threads on a CPU ${busy(others.run)}; Postgres ${busy(burst.databaseSeconds)} (${cpus().length} cores, load ${loadavg().map((l) => l.toFixed(1)).join(" ")})`,
    );
  }
}

function report(ctx: Context, one: number[], burst: { latencies: number[]; seconds: number }) {
  const q = (xs: number[], p: number) => {
    const s = [...xs].sort((a, b) => a - b);
    return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
  };
  const line = (name: string, xs: number[]) =>
    `${name.padEnd(34)} p50 ${fmt(q(xs, 50), 1).padStart(6)} ms   p99 ${fmt(q(xs, 99), 1).padStart(6)} ms   max ${fmt(Math.max(...xs), 1).padStart(6)} ms`;
  console.log(`\nbench:graph — notification received → ticket committed (${ctx.database.kind}, ${COUNT} notifications per run)\n`);
  console.log(line("one at a time", one));
  console.log(line(`burst, ${CONCURRENCY} in flight`, burst.latencies));
  console.log(`${"burst throughput".padEnd(34)} ${fmt(COUNT / burst.seconds)} tickets/s`);
  console.log(`\ngoal p99 < 100 ms (one at a time): ${q(one, 99) < 100 ? "met" : "NOT met"}\n`);
}

/** Where the time goes: fake sends → message stored (the fetch), → pipeline starts, → ticket committed. */
async function stages(ctx: Context, name: string, prefix: string) {
  const rows = await queryRows<{ subject: string; created_at: string | Date; processed_at: string | Date }>(
    ctx.db,
    sql`select subject, created_at, processed_at from inbound_messages where subject like ${`${prefix}%`}`,
  );
  const fetch: number[] = [];
  const queue: number[] = [];
  const pipeline: number[] = [];
  for (const r of rows) {
    const sent = sentAt.get(r.subject);
    const done = committedAt.get(r.subject);
    if (sent === undefined || done === undefined) continue;
    const stored = new Date(r.created_at).getTime();
    const started = new Date(r.processed_at).getTime();
    fetch.push(stored - sent);
    queue.push(started - stored);
    pipeline.push(done - started);
  }
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
  const acked = (acknowledged.get(prefix) ?? []).filter(Number.isFinite);
  console.log(
    `${`  ${name}, medians:`.padEnd(34)} 202 to Graph after ${fmt(med(acked), 1)} ms; notified → stored ${fmt(med(fetch), 1)} ms, stored → pipeline ${fmt(med(queue), 1)} ms, pipeline → committed ${fmt(med(pipeline), 1)} ms`,
  );
}

async function embeddedContext(env: Record<string, string>) {
  const config = parseConfig({ DATA_DIR: mkdtempSync(path.join(os.tmpdir(), "mailgate-bench-")), ADMIN_API_TOKEN: TOKEN, ...env });
  const ctx = await buildContext(config, { inMemory: true });
  return { ctx, close: () => ctx.database.close() };
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
