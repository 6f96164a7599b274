// bench:outbound — new tickets with acknowledgements on, through the real pipeline and the
// outbox, to an SMTP server (smtp-server) on loopback in a process of its own: ticket committed
// (tickets.created_at) → acknowledgement accepted (the server's end of DATA), p50/p99, and
// acknowledgements per second, with the pipeline's own rate (tickets/s) in the same run.
//
// mailgate runs in-process with its production loops: the pipeline workers, and the outbox sender
// (OUTBOUND_CONCURRENCY) woken by the pipeline's commits and polling once a second. After a
// warm-up (BENCH_WARMUP; V8 compiles for much of a cold run of a few seconds), three runs of
// BENCH_TICKETS new mails: a burst (all at once), a steady arrival at BENCH_RATE a second, and
// the outbox alone draining acknowledgements queued while it was stopped (its own ceiling).
import { fork } from "node:child_process";
import type { AddressInfo } from "node:net";
import os from "node:os";
import { sql } from "drizzle-orm";
import type { Context } from "../src/context.ts";
import { queryRows } from "../src/db/client.ts";
import { companies, companyDomains, inboundMessages, mailSources } from "../src/db/schema.ts";
import { createApp } from "../src/http/app.ts";
import { startOutboxSender } from "../src/outbound/outbox-sender.ts";
import { headerMessageId } from "../src/pipeline/message-id.ts";
import { startPipelineWorkers } from "../src/pipeline/worker.ts";
import { buildEmail } from "../tests/helpers/build-email.ts";
import { FAKE_SMTP_PASSWORD, FAKE_SMTP_USER } from "../tests/fakes/smtp/smtp-server.ts";
import { giveSmtpBlock } from "../tests/helpers/smtp-block.ts";
import { benchContext, cpuSpent, databaseCpuSeconds, embeddedBenchContext, fmt } from "./bench-database.ts";

const COUNT = Number(process.env.BENCH_TICKETS ?? 1000);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 300);
const DATABASE = process.env.BENCH_DATABASE ?? "postgres";
const RATE = Number(process.env.BENCH_RATE ?? 200);
const TICK_MS = 50;
const COMPANIES = 50;

type Accepted = { messageId: string | null; at: number };

async function main() {
  if (DATABASE !== "postgres" && DATABASE !== "pglite") throw new Error(`BENCH_DATABASE must be postgres or pglite, not ${DATABASE}`);
  const receiver = fork(new URL("./smtp-receiver.ts", import.meta.url).pathname);
  const smtpPort = await new Promise<number>((resolve) => receiver.once("message", (m: { port: number }) => resolve(m.port)));
  const ask = <T>(cmd: string) =>
    new Promise<T>((resolve) => {
      receiver.once("message", (m: T) => resolve(m));
      receiver.send({ cmd });
    });

  // The settings a run may change, taken from the environment as mailgate would take them.
  const env = Object.fromEntries(
    ["OUTBOUND_CONCURRENCY", "DATABASE_POOL_SIZE", "WORKER_CONCURRENCY"].flatMap((name) => (process.env[name] ? [[name, process.env[name]!]] : [])),
  );
  const { ctx, close } = DATABASE === "pglite" ? await embeddedBenchContext(env) : await benchContext(env);
  const server = createApp(ctx).listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  const api = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api`;
  const admin = { authorization: `Bearer ${ctx.adminToken}`, "content-type": "application/json" };
  try {
    const sourceId = await setUp(ctx, api, admin, smtpPort);
    const pipeline = startPipelineWorkers(ctx);
    let outbox = startOutboxSender(ctx);
    let serial = 0;
    const mail = async (n: number) => {
      const from = serial;
      serial += n;
      await addBacklog(ctx, sourceId, from, n);
    };
    /** Runs `arrive` with the loops running and measures until every acknowledgement is accepted. */
    const measure = async (arrive: () => Promise<void>) => {
      await ask("reset");
      const before = { db: await databaseCpuSeconds(ctx), mailgate: process.cpuUsage(), smtp: (await ask<{ cpuSeconds: number }>("collect")).cpuSeconds };
      const started = Date.now();
      await arrive();
      const ticketsDoneAt = await untilTicketsDone(ctx);
      await untilAllSent(ctx);
      const mailgateCpu = process.cpuUsage(before.mailgate);
      const dbCpu = cpuSpent(before.db, await databaseCpuSeconds(ctx));
      const collected = await ask<{ accepted: Accepted[]; cpuSeconds: number }>("collect");
      return {
        started,
        ticketsDoneAt,
        lastAcceptedAt: collected.accepted.reduce((last, a) => Math.max(last, a.at), 0),
        timings: await ackTimings(ctx, collected.accepted),
        cpu: { mailgate: (mailgateCpu.user + mailgateCpu.system) / 1e6, smtp: collected.cpuSeconds - before.smtp, db: dbCpu },
      };
    };

    await measure(() => mail(WARMUP));

    // 1. A burst: COUNT new mails at once, the pipeline and the outbox side by side.
    const burst = await measure(() => mail(COUNT));

    // 2. Mail arriving steadily at RATE a second: what one acknowledgement waits when the outbox keeps up.
    const paced = await measure(async () => {
      const perTick = Math.max(1, Math.round((RATE * TICK_MS) / 1000));
      for (let sent = 0, next = Date.now(); sent < COUNT; sent += perTick) {
        await mail(Math.min(perTick, COUNT - sent));
        next += TICK_MS;
        await new Promise((r) => setTimeout(r, Math.max(0, next - Date.now())));
      }
    });

    // 3. The outbox alone: a backlog of acknowledgements queued while it was stopped.
    await outbox.stop();
    await mail(COUNT);
    await untilTicketsDone(ctx);
    const drain = await measure(async () => {
      outbox = startOutboxSender(ctx);
    });
    await outbox.stop();
    await pipeline.stop();

    const seconds = (from: number, to: number) => (to - from) / 1000;
    console.log(
      `bench:outbound  tickets=${fmt(COUNT)} warm-up=${fmt(WARMUP)} database=${DATABASE} outbound concurrency=${ctx.config.outbound.concurrency} ` +
        `pipeline workers=${ctx.database.kind === "pglite" ? 1 : ctx.config.workerConcurrency} database pool=${ctx.database.kind === "pglite" ? "-" : ctx.config.databasePoolSize}`,
    );
    console.log(`  burst: ${fmt(COUNT)} new mails at once`);
    console.log(`    pipeline                     ${fmt(COUNT / seconds(burst.started, burst.ticketsDoneAt))} tickets/s  (${fmt(seconds(burst.started, burst.ticketsDoneAt), 2)} s)`);
    console.log(`    acknowledgements             ${fmt(COUNT / seconds(burst.started, burst.lastAcceptedAt))} /s  (the last accepted ${fmt(seconds(burst.started, burst.lastAcceptedAt), 2)} s after the burst began)`);
    printLatency(burst.timings);
    console.log(`  steady: ${fmt(COUNT)} new mails at ${fmt(RATE)}/s (BENCH_RATE), ${TICK_MS} ms apart in groups`);
    printLatency(paced.timings);
    console.log(`  outbox alone: ${fmt(COUNT)} acknowledgements queued while it was stopped`);
    console.log(`    acknowledgements             ${fmt(COUNT / seconds(drain.started, drain.lastAcceptedAt))} /s  (${fmt(seconds(drain.started, drain.lastAcceptedAt), 2)} s; goal >= 300/s)`);
    const per = (cpuSeconds: number) => `${fmt((cpuSeconds * 1000) / COUNT, 2)} ms`;
    const cpuLine = (what: string, cpu: typeof burst.cpu) =>
      `  CPU per ${what}: mailgate ${per(cpu.mailgate)}, SMTP server ${per(cpu.smtp)}, Postgres ${cpu.db > 0 ? per(cpu.db) : "not readable here"}`;
    console.log(cpuLine("ticket with its acknowledgement (burst)", burst.cpu));
    console.log(`${cpuLine("acknowledgement (outbox alone)", drain.cpu)}; ${os.cpus().length} CPUs, load ${os.loadavg().map((l) => l.toFixed(1)).join(" ")}`);
    if (process.env.BENCH_TRACE) {
      for (const [name, run] of [["burst", burst], ["steady", paced]] as const) {
        console.log(`  ${name}: slowest acknowledgements (ms after the ticket's created_at): send began, accepted`);
        for (const t of [...run.timings].sort((a, b) => b.acceptedAt - b.createdAt - (a.acceptedAt - a.createdAt)).slice(0, 10)) {
          console.log(`    created +${t.createdAt - run.started}  ${t.attemptedAt - t.createdAt}  ${t.acceptedAt - t.createdAt}`);
        }
      }
    }
  } finally {
    server.close();
    await close();
    receiver.send({ cmd: "stop" });
  }
}

function printLatency(timings: AckTiming[]): void {
  const total = timings.map((t) => t.acceptedAt - t.createdAt);
  const waited = timings.map((t) => t.attemptedAt - t.createdAt);
  const sending = timings.map((t) => t.acceptedAt - t.attemptedAt);
  const line = (values: number[]) => `p50 ${fmt(percentile(values, 50))} ms  p99 ${fmt(percentile(values, 99))} ms`;
  console.log(`    committed → accepted         ${line(total)}  max ${fmt(Math.max(...total))} ms  (${fmt(timings.length)} matched; goal p99 < 250 ms)`);
  console.log(`      committed → send began     ${line(waited)}  (waiting for a sender, claim, build)`);
  console.log(`      send began → accepted      ${line(sending)}  (SMTP)`);
}

/** An api source that sends through the SMTP server, a company per sender domain, acknowledgements on. */
async function setUp(ctx: Context, api: string, admin: Record<string, string>, smtpPort: number): Promise<string> {
  const [source] = await ctx.db
    .insert(mailSources)
    .values({ kind: "api", name: "MSP Support", address: "support@mailgate.test", role: "system", status: "connected" })
    .returning();
  await giveSourceSmtp(ctx, source!.id, smtpPort);
  const rows = await ctx.db.insert(companies).values(Array.from({ length: COMPANIES }, (_, c) => ({ name: `Company ${c}` }))).returning({ id: companies.id });
  await ctx.db.insert(companyDomains).values(rows.map((row, c) => ({ domain: `company${c}.example`, companyId: row.id })));
  const acknowledgement = { enabled: true, subject: "{{ticket.subject}}", text: "We have opened ticket {{ticket.number}} for {{company.name}}: {{ticket.subject}}." };
  const res = await fetch(`${api}/settings`, { method: "PUT", headers: admin, body: JSON.stringify({ acknowledgement }) });
  if (res.status !== 200) throw new Error(`PUT /api/settings answered ${res.status}: ${await res.text()}`);
  return source!.id;
}

/** The one place the bench gives a source its SMTP block (the sources API will take it: PATCH then). */
async function giveSourceSmtp(ctx: Context, sourceId: string, port: number): Promise<void> {
  await giveSmtpBlock({ ctx }, sourceId, { port, user: FAKE_SMTP_USER, password: FAKE_SMTP_PASSWORD });
}

/** New tickets only, each from a sender of its own (the per-sender limit is 3 an hour). */
async function addBacklog(ctx: Context, sourceId: string, from: number, n: number): Promise<void> {
  const mails = Array.from({ length: n }, (_, k) => {
    const i = from + k;
    const domain = `company${i % COMPANIES}.example`;
    return buildEmail({ from: `user${i}@${domain}`, subject: `Problem ${i}`, messageId: `<outbound-bench-${i}@${domain}>`, text: `The printer shows error E-${i % 97}.` });
  });
  for (let i = 0; i < mails.length; i += 500) {
    await ctx.db.insert(inboundMessages).values(
      mails.slice(i, i + 500).map((raw, j) => ({
        sourceId,
        providerMessageId: `outbound-bench-${from + i + j}`,
        raw,
        rawSize: raw.length,
        rawSha256: "-",
        messageId: headerMessageId(raw),
      })),
    );
    ctx.database.wake("inbound");
  }
}

async function untilTicketsDone(ctx: Context): Promise<number> {
  for (;;) {
    // From the partial claim index: the poll costs the database next to nothing.
    const [row] = await queryRows<{ waiting: boolean }>(ctx.db, sql`select exists(select 1 from inbound_messages where status = 'received') as waiting`);
    if (!row?.waiting) return Date.now();
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function untilAllSent(ctx: Context): Promise<void> {
  for (;;) {
    const [row] = await queryRows<{ waiting: boolean }>(ctx.db, sql`select exists(select 1 from outbound_messages where status in ('queued', 'sending')) as waiting`);
    if (!row?.waiting) return;
    await new Promise((r) => setTimeout(r, 25));
  }
}

type AckTiming = { createdAt: number; attemptedAt: number; acceptedAt: number };

/** Each accepted mail, found by its Message-ID: its ticket's created_at and when its send began. */
async function ackTimings(ctx: Context, accepted: Accepted[]): Promise<AckTiming[]> {
  const rows = await queryRows<{ message_id: string; created_at: string; attempted_at: string }>(
    ctx.db,
    sql`select o.message_id, t.created_at, a.attempted_at
          from outbound_messages o
          join tickets t on t.id = o.ticket_id
          join outbound_attempts a on a.outbound_message_id = o.id and a.outcome = 'sent'
         where o.kind = 'acknowledgement' and o.status = 'sent'`,
  );
  const byMessageId = new Map(rows.map((r) => [r.message_id, r]));
  return accepted.flatMap(({ messageId, at }) => {
    const row = messageId ? byMessageId.get(messageId) : undefined;
    return row ? [{ createdAt: new Date(row.created_at).getTime(), attemptedAt: new Date(row.attempted_at).getTime(), acceptedAt: at }] : [];
  });
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
