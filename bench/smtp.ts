// bench:smtp — mail handed to mailgate's SMTP listener. A sending server (nodemailer's pooled
// transport in a child process, bench/smtp-sender.ts) sends BENCH_SMTP_MESSAGES (5,000) mails over
// 8 connections to the listener, running in this process on real Postgres (BENCH_DATABASE_URL or
// the local CI server). Three phases, so the figures show where the time goes: the listener
// alone (pipeline stopped), the pipeline alone on that backlog, then both at once. It prints:
//   accepted/s      messages answered 250, per second of the run
//   send → 250      per message, from nodemailer's sendMail to the 250 after DATA (MAIL FROM,
//                   RCPT TO and DATA pipelined, the body, and the store before the answer)
//   send → ticket   per message, from sendMail to the commit of its ticket
// and where the CPU went: this process (listener and pipeline), the sender, Postgres; and how many
// mails each store and each pipeline batch took. WORKER_CONCURRENCY sets the pipeline's workers.
import { fork } from "node:child_process";
import os from "node:os";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import type { Context } from "../src/context.ts";
import { pgArray, queryRows, sql, type Channel } from "../src/db/client.ts";
import { companies, companyDomains, mailSources } from "../src/db/schema.ts";
import { startPipelineWorkers } from "../src/pipeline/worker.ts";
import { startSmtpListener } from "../src/sources/smtp/smtp-listener.ts";
import { benchContext, cpuSpent, databaseCpuSeconds, fmt, threadTimes, threadTimesSpent } from "./bench-database.ts";
import { wallClock, type SmtpSenderCommand, type SmtpSenderReport } from "./smtp-sender.ts";

const MESSAGES = Number(process.env.BENCH_SMTP_MESSAGES ?? 5000);
const CONNECTIONS = 8;
const TO = "support@msp.example";

type Sample = { sentAt: number; acceptedAt: number; ticketAt?: number };

/** Calls `scan` after every wake on `channel` (coalesced) and every 25 ms, until stopped. */
function watch(ctx: Context, channel: Channel, scan: () => Promise<void>): { stop(): void } {
  let running = false;
  let again = false;
  const run = async () => {
    if (running) return void (again = true);
    running = true;
    do {
      again = false;
      await scan().catch((err: unknown) => console.error("bench scan failed", err));
    } while (again);
    running = false;
  };
  const unsubscribe = ctx.database.onWake(channel, () => void run());
  const timer = setInterval(() => void run(), 25);
  return { stop: () => (unsubscribe(), clearInterval(timer)) };
}

/** The ticket clock: asks only about accepted messages still without a ticket, by Message-ID. */
function watchTickets(ctx: Context, sourceId: string) {
  const pending = new Map<string, Sample>();
  const watcher = watch(ctx, "deliveries", async () => {
    if (pending.size === 0) return;
    const rows = await queryRows<{ message_id: string }>(
      ctx.db,
      sql`select message_id from inbound_messages
           where source_id = ${sourceId} and status = 'ticket_created' and message_id = any(${pgArray([...pending.keys()])}::text[])`,
    );
    const at = wallClock();
    for (const r of rows) {
      pending.get(r.message_id)!.ticketAt = at;
      pending.delete(r.message_id);
    }
  });
  return { expect: (i: number, sample: Sample) => pending.set(`bench-smtp-${i}@acme.example`, sample), pending: () => pending.size, stop: watcher.stop };
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
const line = (name: string, ms: number[]) => {
  const s = [...ms].sort((a, b) => a - b);
  return `  ${name.padEnd(16)} p50 ${fmt(percentile(s, 50)).padStart(6)} ms   p99 ${fmt(percentile(s, 99)).padStart(6)} ms   max ${fmt(s[s.length - 1]!).padStart(6)} ms`;
};

type Readings = { cpu: NodeJS.CpuUsage; threads: ReturnType<typeof threadTimes>; db: Map<number, number>; at: number };
const read = async (ctx: Context): Promise<Readings> => ({ cpu: process.cpuUsage(), threads: threadTimes(), db: await databaseCpuSeconds(ctx), at: wallClock() });

/** Where the CPU went between two readings, per message. */
async function cpuLine(ctx: Context, before: Readings, messages: number, senderCpuMs = 0): Promise<string> {
  const after = await read(ctx);
  const cpu = process.cpuUsage(before.cpu);
  const mailgate = (cpu.user + cpu.system) / 1000;
  const db = cpuSpent(before.db, after.db) * 1000;
  const threads = threadTimesSpent(before.threads, after.threads);
  const per = (ms: number) => fmt(ms / messages, 2);
  return (
    `  CPU a message: mailgate ${per(mailgate)} ms, Postgres ${per(db)} ms${senderCpuMs ? `, sender ${per(senderCpuMs)} ms` : ""}` +
    (threads ? `; mailgate's main thread ran ${fmt(threads.main.run * 1000)} ms and waited for a CPU ${fmt(threads.main.wait * 1000)} ms` : "")
  );
}

async function main() {
  const workers = process.env.WORKER_CONCURRENCY;
  const { ctx, close } = await benchContext({ SMTP_LISTEN: "127.0.0.1:0", LOG_LEVEL: "error", ...(workers ? { WORKER_CONCURRENCY: workers } : {}) });
  // Stores and pipeline batches, counted by their in-process wakes (one per committed store, one per batch that made tickets).
  const wakes = { inbound: 0, deliveries: 0 };
  ctx.database.onWake("inbound", () => void wakes.inbound++);
  ctx.database.onWake("deliveries", () => void wakes.deliveries++);
  const batchLine = (messages: number, pipeline: boolean) =>
    `  mails a store ${fmt(messages / wakes.inbound, 1)}` + (pipeline ? `, mails a pipeline batch ${fmt(messages / wakes.deliveries, 1)} (${ctx.config.workerConcurrency} workers)` : "");
  const [company] = await ctx.db.insert(companies).values({ name: "Acme" }).returning();
  await ctx.db.insert(companyDomains).values({ domain: "acme.example", companyId: company!.id });
  const [source] = await ctx.db
    .insert(mailSources)
    .values({ kind: "smtp", name: "Forwarded support", address: TO, role: "system", status: "connected", config: { addresses: [] } })
    .returning();
  const listener = await startSmtpListener(ctx, ctx.config.smtpListener!);
  const tickets = watchTickets(ctx, source!.id);
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  const sender = fork(fileURLToPath(new URL("./smtp-sender.ts", import.meta.url)));
  let onReport: (r: SmtpSenderReport) => void = () => undefined;
  sender.on("message", (r: SmtpSenderReport) => onReport(r));

  /** Sends `count` mails from index `from`; answers the samples and the sender's summary. */
  const send = (from: number, count: number, watchTickets: boolean) =>
    new Promise<{ samples: Sample[]; done: Extract<SmtpSenderReport, { type: "done" }> }>((resolve) => {
      const samples: Sample[] = [];
      onReport = (r) => {
        if (r.type === "done") return resolve({ samples, done: r });
        for (const item of r.items) {
          const sample = { sentAt: item.sentAt, acceptedAt: item.acceptedAt };
          samples.push(sample);
          if (watchTickets) tickets.expect(item.i, sample);
        }
      };
      sender.send({ type: "run", port: listener.port, from, count, connections: CONNECTIONS, to: TO } satisfies SmtpSenderCommand);
    });
  const acceptedLine = (samples: Sample[], done: { ms: number; refused: number; firstError: string | null }) =>
    `  accepted         ${fmt(samples.length)} (refused ${done.refused}${done.firstError ? `: ${done.firstError}` : ""}) in ${fmt(done.ms)} ms: ${fmt(samples.length / (done.ms / 1000))} messages/s`;
  const waitingCount = async () =>
    (await queryRows<{ n: number }>(ctx.db, sql`select count(*)::int as n from inbound_messages where status = 'received'`))[0]!.n;

  console.log(`bench:smtp — ${fmt(MESSAGES)} messages over ${CONNECTIONS} connections, twice; Postgres; ${os.cpus().length} cores, load average ${os.loadavg().map((l) => l.toFixed(2)).join(" ")}`);

  // 1. The listener alone: what accepting costs, without the pipeline taking its share of the CPU.
  console.log("intake alone (pipeline stopped):");
  let before = await read(ctx);
  wakes.inbound = 0;
  const intake = await send(0, MESSAGES, false);
  console.log(acceptedLine(intake.samples, intake.done));
  console.log(line("send → 250", intake.samples.map((s) => s.acceptedAt - s.sentAt)));
  console.log(await cpuLine(ctx, before, intake.samples.length, intake.done.cpuMs));
  console.log(batchLine(intake.samples.length, false));

  // 2. The pipeline alone, on that backlog.
  console.log("pipeline alone (the backlog of 1):");
  before = await read(ctx);
  let pipeline = startPipelineWorkers(ctx, { pollMs: 1000 });
  while ((await waitingCount()) > 0) await new Promise((r) => setTimeout(r, 50));
  const drainMs = wallClock() - before.at;
  console.log(`  ${fmt(intake.samples.length)} messages processed in ${fmt(drainMs)} ms: ${fmt(intake.samples.length / (drainMs / 1000))} messages/s`);
  console.log(await cpuLine(ctx, before, intake.samples.length));
  await pipeline.stop();

  // 3. Both at once: the goal's figures.
  console.log("intake and pipeline together:");
  pipeline = startPipelineWorkers(ctx, { pollMs: 1000 });
  before = await read(ctx);
  wakes.inbound = wakes.deliveries = 0;
  loopDelay.enable();
  const both = await send(MESSAGES, MESSAGES, true);
  const lastAccepted = wallClock();
  const deadline = Date.now() + 300_000;
  while (tickets.pending() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  const lastTicket = wallClock();
  loopDelay.disable();
  console.log(acceptedLine(both.samples, both.done));
  console.log(line("send → 250", both.samples.map((s) => s.acceptedAt - s.sentAt)));
  const ticketed = both.samples.filter((s) => s.ticketAt !== undefined);
  console.log(line("send → ticket", ticketed.map((s) => s.ticketAt! - s.sentAt)) + `   (${fmt(ticketed.length)} tickets; the last ${fmt(lastTicket - lastAccepted)} ms after the last 250)`);
  console.log(await cpuLine(ctx, before, both.samples.length, both.done.cpuMs));
  console.log(batchLine(both.samples.length, true));
  console.log(`  event-loop delay: p99 ${fmt(loopDelay.percentile(99) / 1e6)} ms, max ${fmt(loopDelay.max / 1e6)} ms; load average after ${os.loadavg().map((l) => l.toFixed(2)).join(" ")}`);

  sender.send({ type: "stop" } satisfies SmtpSenderCommand);
  tickets.stop();
  await pipeline.stop();
  await listener.stop();
  await close();
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
