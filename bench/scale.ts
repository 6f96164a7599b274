// bench:scale — pipeline throughput with one and with two mailgate processes on the same Postgres.
// Each run gets a fresh database holding the same backlog of received messages (new tickets,
// replies, auto-replies), held back until every process (MAILGATE_ROLES=worker) has started; then
// the backlog is released and timed until the last outcome is committed.
import { randomBytes } from "node:crypto";
import os from "node:os";
import { sql } from "drizzle-orm";
import { queryRows } from "../src/db/client.ts";
import { companies, companyDomains, inboundMessages, mailSources } from "../src/db/schema.ts";
import { headerMessageId } from "../src/pipeline/message-id.ts";
import { buildEmail } from "../tests/helpers/build-email.ts";
import { startMailgateProcess, type MailgateProcess } from "../tests/helpers/mailgate-process.ts";
import { benchContext, fmt } from "./bench-database.ts";

const COUNT = Number(process.env.BENCH_MESSAGES ?? 5000);
const WORKERS = Number(process.env.WORKER_CONCURRENCY ?? 4);
const COMPANIES = 50;
const DRAIN_LIMIT_MS = 10 * 60_000;

type Run = { label: string; instances: number; workers: number };
type Result = Run & { seconds: number; rate: number; outcomes: string };

function backlog(n: number): Buffer[] {
  const sent: string[] = [];
  return Array.from({ length: n }, (_, i) => {
    const domain = `company${i % COMPANIES}.example`;
    const from = `user${i % 400}@${domain}`;
    const messageId = `<scale-${i}-${randomBytes(4).toString("hex")}@${domain}>`;
    const text = `Hello,\r\n\r\nticket body number ${i}: the printer on the second floor shows error E-${i % 97}.\r\n`.repeat(4);
    const kind = i % 10;
    // A reply to any earlier mail that is not an out-of-office notice (a multiplicative hash of i).
    const parent = sent.length > 0 ? sent[(Math.imul(i, 2654435761) >>> 0) % sent.length]! : null;
    if (kind !== 9) sent.push(messageId);
    if (kind < 7 || !parent) return buildEmail({ from, subject: `Problem ${i}`, messageId, text });
    if (kind < 9) return buildEmail({ from, subject: `Re: Problem ${i}`, messageId, inReplyTo: parent, references: [parent], text });
    return buildEmail({ from, subject: `Out of office: Problem ${i}`, messageId, headers: { "Auto-Submitted": "auto-replied" }, text: "I am away." });
  });
}

async function measure(run: Run, messages: Buffer[]): Promise<Result> {
  const { ctx, close } = await benchContext();
  const processes: MailgateProcess[] = [];
  try {
    const [source] = await ctx.db
      .insert(mailSources)
      .values({ kind: "api", name: "bench", address: "support@mailgate.test", role: "system", status: "connected" })
      .returning();
    for (let c = 0; c < COMPANIES; c++) {
      const [row] = await ctx.db.insert(companies).values({ name: `Company ${c}` }).returning();
      await ctx.db.insert(companyDomains).values({ domain: `company${c}.example`, companyId: row!.id });
    }
    // Held back a day, so no process starts on them before the others are up.
    const held = new Date(Date.now() + 86_400_000);
    for (let i = 0; i < messages.length; i += 500) {
      await ctx.db.insert(inboundMessages).values(
        messages.slice(i, i + 500).map((raw, j) => ({
          sourceId: source!.id,
          providerMessageId: `scale-${i + j}`,
          raw,
          rawSize: raw.length,
          rawSha256: "-",
          messageId: headerMessageId(raw), // as intake stores it
          nextAttemptAt: held,
        })),
      );
    }

    const env = {
      DATABASE_URL: ctx.config.databaseUrl!,
      MAILGATE_ROLES: "worker",
      WORKER_CONCURRENCY: String(run.workers),
      ADMIN_API_TOKEN: "bench-token-0123456789",
      MAILGATE_SECRET_KEY: randomBytes(32).toString("hex"),
      LOG_LEVEL: "info",
    };
    for (let i = 0; i < run.instances; i++) processes.push(await startMailgateProcess(`bench-${i}`, env));
    await Promise.all(processes.map((p) => p.waitForOutput("mailgate started")));

    const t0 = performance.now();
    await ctx.db.execute(sql`update inbound_messages set next_attempt_at = now()`);
    ctx.database.wake("inbound");
    for (;;) {
      const [row] = await queryRows<{ left: string }>(ctx.db, sql`select count(*) as left from inbound_messages where status = 'received'`);
      if (Number(row?.left) === 0) break;
      if (performance.now() - t0 > DRAIN_LIMIT_MS) throw new Error(`${run.label}: ${row?.left} messages still waiting after ${DRAIN_LIMIT_MS / 1000} s`);
      if (processes.some((p) => !p.running())) throw new Error(`${run.label}: a process exited:\n${processes.map((p) => p.output()).join("\n")}`);
      await new Promise((r) => setTimeout(r, 25));
    }
    const seconds = (performance.now() - t0) / 1000;
    const statuses = await queryRows<{ status: string; n: string }>(ctx.db, sql`select status, count(*) as n from inbound_messages group by status order by status`);
    return { ...run, seconds, rate: messages.length / seconds, outcomes: statuses.map((s) => `${s.status} ${s.n}`).join(", ") };
  } finally {
    await Promise.all(processes.map((p) => p.stop()));
    await close();
  }
}

async function main() {
  const messages = backlog(COUNT);
  const mib = messages.reduce((n, m) => n + m.length, 0) / 1024 / 1024;
  const runs: Run[] = [
    { label: `1 instance × ${WORKERS} workers`, instances: 1, workers: WORKERS },
    { label: `2 instances × ${WORKERS} workers`, instances: 2, workers: WORKERS },
    { label: `1 instance × ${2 * WORKERS} workers`, instances: 1, workers: 2 * WORKERS },
  ];
  const loadBefore = os.loadavg()[0]!;
  const results: Result[] = [];
  for (const run of runs) results.push(await measure(run, messages));

  const [one, two] = results;
  console.log(`bench:scale  messages=${fmt(COUNT)} (${fmt(mib, 1)} MiB) per run, fresh database each, Postgres and the processes on ${os.cpus().length} CPUs, load average ${fmt(loadBefore, 1)} before, ${fmt(os.loadavg()[0]!, 1)} after`);
  console.log(`  ${"".padEnd(26)}${"msg/s".padStart(8)}${"seconds".padStart(10)}   outcomes`);
  for (const r of results) {
    console.log(`  ${r.label.padEnd(26)}${fmt(r.rate).padStart(8)}${fmt(r.seconds, 2).padStart(10)}   ${r.outcomes}`);
  }
  console.log(`  2 instances / 1 instance   ${fmt(two!.rate / one!.rate, 2)}×`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
