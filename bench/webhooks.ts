// bench:webhooks — deliveries per second from a backlog of 20,000 events to a local receiver,
// against the receiver's own ceiling (plain keep-alive POSTs from a load generator, same run).
//
// Both sides are measured warm: first 2,000 plain POSTs, and a backlog of 2,000 events drained by
// a dispatcher of its own, then the timed runs. In a 2.5 s run V8 otherwise spends much of its
// time compiling: 201 optimising compiles and ~0.9 s of compiler time during the timed drain
// (--trace-opt), on the two cores the receiver and Postgres need. The cold drain is printed too.
import { fork } from "node:child_process";
import http from "node:http";
import os from "node:os";
import { sql } from "drizzle-orm";
import { startDispatcher } from "../src/delivery/dispatcher.ts";
import { generateWebhookSecret } from "../src/delivery/sign-webhook.ts";
import { webhookEndpoints } from "../src/db/schema.ts";
import { queryRows } from "../src/db/client.ts";
import { benchContext, cpuSpent, databaseCpuSeconds, fmt } from "./bench-database.ts";

const EVENTS = Number(process.env.BENCH_EVENTS ?? 20_000);
const CONCURRENCY = Number(process.env.WEBHOOK_CONCURRENCY ?? 64);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 2_000);

async function main() {
  const receiver = fork(new URL("./webhook-receiver.ts", import.meta.url).pathname);
  const port = await new Promise<number>((resolve) => receiver.once("message", (m: { port: number }) => resolve(m.port)));
  const ask = <T>(cmd: string) =>
    new Promise<T>((resolve) => {
      receiver.once("message", (m: T) => resolve(m));
      receiver.send({ cmd });
    });
  const url = `http://127.0.0.1:${port}/hooks`;
  const body = JSON.stringify({ type: "ticket.created", timestamp: new Date().toISOString(), data: { filler: "x".repeat(1500) } });

  // 1. The receiver's ceiling: the same number of plain POSTs, CONCURRENCY at a time, keep-alive.
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const post = () =>
    new Promise<void>((resolve, reject) => {
      const req = http.request(url, { method: "POST", agent, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) } }, (res) => {
        res.resume();
        res.on("end", () => resolve());
      });
      req.on("error", reject);
      req.end(body);
    });
  const postAll = async (n: number) => {
    let sent = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (sent < n) {
          sent++;
          await post();
        }
      }),
    );
  };
  await postAll(WARMUP);
  const generatorCpuBefore = process.cpuUsage();
  const started = performance.now();
  await postAll(EVENTS);
  const ceiling = EVENTS / ((performance.now() - started) / 1000);
  const generatorCpu = process.cpuUsage(generatorCpuBefore);
  agent.destroy();
  await ask("reset");

  // 2. mailgate: a backlog of EVENTS events with one delivery each, drained by the dispatcher.
  const { ctx, close } = await benchContext({ WEBHOOK_CONCURRENCY: String(CONCURRENCY), WEBHOOK_PER_ENDPOINT_CONCURRENCY: String(CONCURRENCY) });
  try {
    const [endpoint] = await ctx.db.insert(webhookEndpoints).values({ url, secret: ctx.secrets.seal(generateWebhookSecret()) }).returning();
    const payload = JSON.stringify(JSON.parse(body));
    const backlog = async (prefix: string, n: number) => {
      await ctx.db.execute(sql`
        insert into events (id, type, payload)
        select ${prefix} || g, 'ticket.created', ${payload}::jsonb from generate_series(1, ${n}) g`);
      await ctx.db.execute(sql`
        insert into webhook_deliveries (event_id, endpoint_id) select ${prefix} || g, ${endpoint!.id}::uuid from generate_series(1, ${n}) g`);
    };
    // Starts a dispatcher and times it until no delivery is pending.
    const drain = async () => {
      const t0 = performance.now();
      const dispatcher = startDispatcher(ctx, { pollMs: 100 });
      for (;;) {
        // From the partial index of pending deliveries: the poll costs the database next to nothing.
        const [row] = await queryRows<{ pending: boolean }>(ctx.db, sql`select exists(select 1 from webhook_deliveries where status = 'pending') as pending`);
        if (!row?.pending) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      return { seconds: (performance.now() - t0) / 1000, stop: () => dispatcher.stop() };
    };

    await backlog("evt_warmup_", WARMUP);
    const warm = await drain();
    await warm.stop();
    await ask("reset");

    await backlog("evt_bench_", EVENTS);
    const receiverBefore = await ask<{ cpuSeconds: number }>("count");
    const dbCpuBefore = await databaseCpuSeconds(ctx);
    const cpuBefore = process.cpuUsage();
    const { seconds, stop } = await drain();
    const cpu = process.cpuUsage(cpuBefore);
    const dbCpu = cpuSpent(dbCpuBefore, await databaseCpuSeconds(ctx));
    await stop();
    const { count, cpuSeconds: receiverAfter } = await ask<{ count: number; cpuSeconds: number }>("count");
    const rate = EVENTS / seconds;
    console.log(`bench:webhooks  events=${fmt(EVENTS)} concurrency=${CONCURRENCY} warm-up=${fmt(WARMUP)} on each side`);
    console.log(`  receiver ceiling (plain POSTs)   ${fmt(ceiling)} req/s  (load generator CPU ${fmt((generatorCpu.user + generatorCpu.system) / EVENTS)} µs per request)`);
    console.log(`  mailgate deliveries             ${fmt(rate)} deliveries/s  (${fmt(seconds, 2)} s, receiver counted ${fmt(count)})`);
    console.log(`    cold, the warm-up backlog      ${fmt(WARMUP / warm.seconds)} deliveries/s  (${fmt(WARMUP)} in ${fmt(warm.seconds, 2)} s, JIT compiling)`);
    console.log(`  ratio deliveries / ceiling       ${fmt(rate / ceiling, 2)}   (goal >= 2,000/s and >= 0.5)`);
    const perDelivery = (cpuSeconds: number) => `${fmt((cpuSeconds * 1e6) / EVENTS)} µs`;
    console.log(
      `  CPU per delivery: mailgate ${perDelivery((cpu.user + cpu.system) / 1e6)}, receiver ${perDelivery(receiverAfter - receiverBefore.cpuSeconds)}, ` +
        `Postgres ${dbCpu > 0 ? perDelivery(dbCpu) : "not readable here"}; ${os.cpus().length} CPUs`,
    );
  } finally {
    await close();
    receiver.send({ cmd: "stop" });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
