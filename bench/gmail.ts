// bench:gmail — push received → ticket committed, over 500 Gmail notifications, one after the
// other, against the loopback fake of Google and a real Postgres. mailgate runs in this process:
// HTTP on 127.0.0.1, the Gmail sync workers and the pipeline workers. The fake Google runs in a
// child process (bench/fake-google-process.ts), so the CPU of each side is counted apart. Each
// round: a new email lands in the fake mailbox, then the fake POSTs Pub/Sub's push (signed OIDC
// token) to /push/gmail; the clock stops when the ticket's transaction has committed.
import { cpus, loadavg } from "node:os";
import { eq } from "drizzle-orm";
import { inboundMessages } from "../src/db/schema.ts";
import { startPipelineWorkers } from "../src/pipeline/worker.ts";
import { startGmailSources } from "../src/sources/gmail/runtime.ts";
import { buildEmail } from "../tests/helpers/build-email.ts";
import { fmt, startPhase } from "./bench-database.ts";
import type { PushTiming } from "./fake-google-process.ts";
import { AUDIENCE, startGmailBench } from "./gmail-bench.ts";

const COUNT = Number(process.env.BENCH_NOTIFICATIONS ?? 500);
// How far each push is followed, to split mailgate's CPU by stage: "ack" runs only the push route
// (no workers), "stored" adds the Gmail sync workers, "ticket" (the default) adds the pipeline.
const UNTIL = (process.env.BENCH_UNTIL ?? "ticket") as "ack" | "stored" | "ticket";
const PIPELINE_WORKERS = Number(process.env.WORKER_CONCURRENCY ?? 2);

type FakeStats = { cpu: NodeJS.CpuUsage; gmailCalls: number; tokenRefreshes: number };

async function main() {
  const bench = await startGmailBench();
  const { google, ctx, base } = bench;
  const runtimes: { stop(): Promise<void> }[] = [];
  try {
    await bench.connectSource(bench.emailAddress, "Support");

    // One notification at a time: two pipeline workers (one per core) are enough, and every idle
    // worker costs a claim transaction on each wake.
    if (UNTIL === "ticket") runtimes.push(startPipelineWorkers(ctx, { pollMs: 1000, concurrency: PIPELINE_WORKERS }));
    if (UNTIL !== "ack") runtimes.push(startGmailSources(ctx, { pollMs: 1000 }));
    await new Promise((r) => setTimeout(r, 500)); // the start-up sync

    // Resolves with the time (on the clock shared with the fake's process) the message was seen
    // stored (UNTIL=stored) or its ticket committed.
    const reached = (messageId: string) =>
      new Promise<number>((resolve) => {
        let done = false;
        const check = async () => {
          if (done) return;
          const [row] = await ctx.db.select({ ticketId: inboundMessages.ticketId }).from(inboundMessages).where(eq(inboundMessages.providerMessageId, messageId));
          if (row && (UNTIL === "stored" || row.ticketId) && !done) {
            done = true;
            off();
            clearInterval(poll);
            resolve(performance.timeOrigin + performance.now());
          }
        };
        // The pipeline wakes "deliveries" right after the ticket's transaction commits, the sync
        // worker "inbound" right after storing the message.
        const off = ctx.database.onWake(UNTIL === "stored" ? "inbound" : "deliveries", () => void check());
        // A fallback only: the wake above is what stops the clock.
        const poll = setInterval(() => void check(), 250);
      });

    const total: number[] = [];
    const ack: number[] = [];
    const stored: number[] = [];
    let storedAt = 0;
    ctx.database.onWake("inbound", () => void (storedAt = performance.timeOrigin + performance.now()));
    const bodies = Array.from({ length: COUNT }, (_, i) => buildEmail({ from: `user${i % 50}@acme.com`, subject: `Bench ${i}: printer jam`, text: `Body ${i}` }));
    const fakeBefore = (await google.call({ method: "stats" })) as FakeStats;
    const phase = await startPhase(ctx, "gmail-mailgate");
    for (const raw of bodies) {
      const messageId = (await google.call({ method: "deliver", raw })) as string;
      const done = UNTIL === "ack" ? null : reached(messageId);
      const timing = (await google.call({ method: "push", endpoint: `${base}/push/gmail`, audience: AUDIENCE })) as PushTiming;
      if (timing.status !== 204) throw new Error(`push answered ${timing.status}: ${timing.body}`);
      const doneAt = done ? await done : timing.sentAt + timing.ackMs;
      ack.push(timing.ackMs);
      total.push(doneAt - timing.sentAt);
      stored.push(storedAt - timing.sentAt);
    }
    const { cpu, wallMs: wall, threads, databaseSeconds: dbCpu, profileFile } = await phase.stop();
    const fakeAfter = (await google.call({ method: "stats" })) as FakeStats;

    const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)]!;
    const perPush = (micros: number) => fmt(micros / 1000 / COUNT, 2);
    const mailgateCpu = cpu.user + cpu.system;
    const fakeCpu = fakeAfter.cpu.user + fakeAfter.cpu.system - (fakeBefore.cpu.user + fakeBefore.cpu.system);
    console.log(`bench:gmail  notifications=${fmt(COUNT)} database=postgres, fake Google in a child process on loopback, one notification at a time, ${PIPELINE_WORKERS} pipeline workers, followed until ${UNTIL}`);
    console.log(`  machine: ${cpus().length} cores, load average ${loadavg().map((l) => l.toFixed(1)).join(" ")} (other work on the machine shows in the tail)`);
    console.log(`  push received → ${UNTIL === "ticket" ? "ticket committed" : UNTIL === "stored" ? "message stored  " : "204 answered    "}   p50 ${fmt(pct(total, 50), 1)} ms   p90 ${fmt(pct(total, 90), 1)} ms   p99 ${fmt(pct(total, 99), 1)} ms   max ${fmt(Math.max(...total), 1)} ms   (goal p99 < 100 ms)`);
    console.log(`  push received → 204 (request durable) p50 ${fmt(pct(ack, 50), 1)} ms   p99 ${fmt(pct(ack, 99), 1)} ms`);
    console.log(`  push received → raw MIME stored       p50 ${fmt(pct(stored, 50), 1)} ms   p99 ${fmt(pct(stored, 99), 1)} ms`);
    console.log(`  CPU per notification: mailgate ${perPush(mailgateCpu)} ms (${fmt((mailgateCpu / 1000 / wall) * 100)} % of one core over the run), fake Google ${perPush(fakeCpu)} ms, Postgres ${fmt((dbCpu * 1000) / COUNT, 2)} ms`);
    if (threads) {
      console.log(`  mailgate's threads per notification: JavaScript ${fmt((threads.main.run * 1000) / COUNT, 2)} ms, the others (GC helpers, compiler, libuv) ${fmt((threads.others.run * 1000) / COUNT, 2)} ms`);
    }
    const gmailCalls = fakeAfter.gmailCalls - fakeBefore.gmailCalls;
    console.log(`  Gmail API calls ${fmt(gmailCalls)} (${fmt(gmailCalls / COUNT, 2)} per notification), token refreshes ${fakeAfter.tokenRefreshes - fakeBefore.tokenRefreshes}`);
    if (profileFile) console.log(`  CPU profile of mailgate over the pushes: ${profileFile}`);
  } finally {
    for (const r of runtimes.reverse()) await r.stop();
    await bench.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
