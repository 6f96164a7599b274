// bench:pipeline — 5,000 realistic mixed messages (new tickets, replies, auto-replies,
// attachments) through the real pipeline into real Postgres, against mailparser's parse-only
// rate on the same messages measured in the same run.
import { randomBytes } from "node:crypto";
import os from "node:os";
import { sql } from "drizzle-orm";
import { simpleParser } from "mailparser";
import { queryRows } from "../src/db/client.ts";
import { companies, companyDomains, inboundMessages, mailSources } from "../src/db/schema.ts";
import { headerMessageId } from "../src/pipeline/message-id.ts";
import { firstBatchSize, startPipelineWorkers } from "../src/pipeline/worker.ts";
import { buildEmail } from "../tests/helpers/build-email.ts";
import { benchContext, cpuSpent, databaseCpuSeconds, fmt, threadTimes, threadTimesSpent } from "./bench-database.ts";

const COUNT = Number(process.env.BENCH_MESSAGES ?? 5000);
const WORKERS = Number(process.env.WORKER_CONCURRENCY ?? 4);
/** Companies with a mapped domain each (mail comes from the first 50); BENCH_COMPANIES=5000 is an MSP's size. */
const COMPANIES = Number(process.env.BENCH_COMPANIES ?? 50);

function mixedMessages(n: number): Buffer[] {
  const pdf = randomBytes(24 * 1024);
  const png = randomBytes(6 * 1024);
  const sent: string[] = [];
  const out: Buffer[] = [];
  const body = (i: number) =>
    `Hello,\r\n\r\nticket body number ${i}. The printer on the second floor shows error E-${i % 97}.\r\n` +
    "We tried turning it off and on again, which did not help.\r\n\r\nRegards,\r\nThe customer\r\n".repeat(3);
  for (let i = 0; i < n; i++) {
    const company = i % Math.min(50, COMPANIES);
    const from = `user${i % 400}@company${company}.example`;
    const messageId = `<bench-${i}-${randomBytes(4).toString("hex")}@company${company}.example>`;
    const kind = i % 10;
    if (kind < 6 || sent.length === 0) {
      out.push(buildEmail({ from, subject: `Problem ${i}`, messageId, text: body(i) }));
    } else if (kind < 8) {
      // A reply to any earlier mail, spread over all of them (a multiplicative hash of i).
      const parent = sent[(Math.imul(i, 2654435761) >>> 0) % sent.length]!;
      out.push(buildEmail({ from, subject: `Re: Problem ${i}`, messageId, inReplyTo: parent, references: [parent], text: body(i) }));
    } else if (kind === 8) {
      out.push(buildEmail({ from, subject: `Out of office: Problem ${i}`, messageId, headers: { "Auto-Submitted": "auto-replied" }, text: "I am away." }));
    } else {
      out.push(
        buildEmail({
          from,
          subject: `Screenshot ${i}`,
          messageId,
          text: body(i),
          attachments: [
            { filename: `report-${i}.pdf`, contentType: "application/pdf", content: pdf },
            { filename: "screen.png", contentType: "image/png", content: png },
          ],
        }),
      );
    }
    // Replies answer people, not out-of-office notices: every reply then has a ticket to join.
    if (kind !== 8) sent.push(messageId);
  }
  return out;
}

async function main() {
  const messages = mixedMessages(COUNT);
  const bytes = messages.reduce((n, m) => n + m.length, 0);

  // Baseline: mailparser alone, one message after the other, same process.
  let t0 = performance.now();
  for (const raw of messages) await simpleParser(raw);
  const parseRate = COUNT / ((performance.now() - t0) / 1000);

  const { ctx, close } = await benchContext({
    WORKER_CONCURRENCY: String(WORKERS),
    ...(process.env.WORKER_BATCH_SIZE ? { WORKER_BATCH_SIZE: process.env.WORKER_BATCH_SIZE } : {}),
  });
  try {
    const [source] = await ctx.db
      .insert(mailSources)
      .values({ kind: "api", name: "bench", address: "support@mailgate.test", role: "system", status: "connected" })
      .returning();
    for (let c = 0; c < COMPANIES; c += 1000) {
      const n = Math.min(1000, COMPANIES - c);
      const rows = await ctx.db.insert(companies).values(Array.from({ length: n }, (_, j) => ({ name: `Company ${c + j}` }))).returning({ id: companies.id });
      await ctx.db.insert(companyDomains).values(rows.map((row, j) => ({ domain: `company${c + j}.example`, companyId: row.id })));
    }
    for (let i = 0; i < messages.length; i += 500) {
      await ctx.db.insert(inboundMessages).values(
        messages.slice(i, i + 500).map((raw, j) => ({
          sourceId: source!.id,
          providerMessageId: `bench-${i + j}`,
          raw,
          rawSize: raw.length,
          rawSha256: "-",
          messageId: headerMessageId(raw), // as intake stores it
        })),
      );
    }

    const dbCpuBefore = await databaseCpuSeconds(ctx);
    const cpuBefore = process.cpuUsage();
    const threadsBefore = threadTimes();
    t0 = performance.now();
    const workers = startPipelineWorkers(ctx, { pollMs: 20 });
    ctx.database.wake("inbound");
    for (;;) {
      // Answered from the partial claim index: the poll itself costs the database next to nothing.
      const [row] = await queryRows<{ waiting: boolean }>(ctx.db, sql`select exists(select 1 from inbound_messages where status = 'received') as waiting`);
      if (!row?.waiting) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    const threads = threadTimesSpent(threadsBefore, threadTimes());
    const dbCpu = cpuSpent(dbCpuBefore, await databaseCpuSeconds(ctx));
    await workers.stop();
    const pipelineRate = COUNT / seconds;
    const statuses = await queryRows<{ status: string; n: string }>(ctx.db, sql`select status, count(*) as n from inbound_messages group by status order by status`);

    console.log(
      `bench:pipeline  messages=${fmt(COUNT)} (${fmt(bytes / 1024 / 1024, 1)} MiB) workers=${WORKERS} batches=${firstBatchSize(ctx.config.workerBatchSize)}..${ctx.config.workerBatchSize} companies=${fmt(COMPANIES)} database=postgres`,
    );
    console.log(`  mailparser parse-only      ${fmt(parseRate)} msg/s`);
    console.log(`  mailgate pipeline          ${fmt(pipelineRate)} msg/s  (${fmt(seconds, 2)} s, parse to committed ticket/note/status)`);
    console.log(`  ratio pipeline / parse     ${fmt(pipelineRate / parseRate, 2)}   (goal >= 0.6)`);
    console.log(`  outcomes: ${statuses.map((s) => `${s.status} ${s.n}`).join(", ")}`);
    const perMessage = (cpuSeconds: number) => `${fmt((cpuSeconds * 1000) / COUNT, 2)} ms/msg`;
    console.log(
      `  CPU per message: mailgate ${perMessage((cpu.user + cpu.system) / 1e6)} (parse alone ${fmt(1000 / parseRate, 2)}), ` +
        `Postgres ${dbCpu > 0 ? perMessage(dbCpu) : "not readable here"}; ${os.cpus().length} CPUs, load ${os.loadavg().map((l) => l.toFixed(1)).join(" ")}`,
    );
    if (threads) {
      // Where mailgate's CPU went, and what the machine's CPUs allow: mailgate's and Postgres's CPU
      // per message, spread perfectly over every CPU, is the most this run could have done.
      console.log(
        `  mailgate's threads: main ${perMessage(threads.main.run)} on a CPU and ${perMessage(threads.main.wait)} waiting for one; ` +
          `V8's compiler and GC helpers ${perMessage(threads.others.run)}`,
      );
      if (dbCpu > 0) {
        const cpuPerMessage = (cpu.user + cpu.system) / 1e6 / COUNT + dbCpu / COUNT;
        const ceiling = os.cpus().length / cpuPerMessage;
        console.log(`  CPU ceiling: ${fmt(cpuPerMessage * 1000, 2)} ms/msg over ${os.cpus().length} CPUs allows ${fmt(ceiling)} msg/s (ratio ${fmt(ceiling / parseRate, 2)})`);
      }
    }
  } finally {
    await close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
