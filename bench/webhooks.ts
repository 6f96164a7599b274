// bench:webhooks — deliveries per second from a backlog of 20,000 events to a local receiver,
// against the receiver's own ceiling (plain keep-alive POSTs from a load generator, same run).
import { fork } from "node:child_process";
import http from "node:http";
import os from "node:os";
import { sql } from "drizzle-orm";
import { startDispatcher } from "../src/delivery/dispatcher.js";
import { generateWebhookSecret } from "../src/delivery/sign-webhook.js";
import { webhookEndpoints } from "../src/db/schema.js";
import { queryRows } from "../src/db/client.js";
import { benchContext, cpuSpent, databaseCpuSeconds, fmt } from "./bench-database.js";

const EVENTS = Number(process.env.BENCH_EVENTS ?? 20_000);
const CONCURRENCY = Number(process.env.WEBHOOK_CONCURRENCY ?? 64);

async function main() {
  const receiver = fork(new URL("./webhook-receiver.ts", import.meta.url).pathname, [], { execArgv: ["--import", "tsx"] });
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
  let sent = 0;
  const generatorCpuBefore = process.cpuUsage();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (sent < EVENTS) {
        sent++;
        await post();
      }
    }),
  );
  const ceiling = EVENTS / ((performance.now() - started) / 1000);
  const generatorCpu = process.cpuUsage(generatorCpuBefore);
  agent.destroy();
  await ask("reset");

  // 2. mailgate: a backlog of EVENTS events with one delivery each, drained by the dispatcher.
  const { ctx, close } = await benchContext({ WEBHOOK_CONCURRENCY: String(CONCURRENCY), WEBHOOK_PER_ENDPOINT_CONCURRENCY: String(CONCURRENCY) });
  try {
    const [endpoint] = await ctx.db.insert(webhookEndpoints).values({ url, secret: ctx.secrets.seal(generateWebhookSecret()) }).returning();
    const payload = JSON.parse(body);
    await ctx.db.execute(sql`
      insert into events (id, type, payload)
      select 'evt_bench_' || g, 'ticket.created', ${JSON.stringify(payload)}::jsonb from generate_series(1, ${EVENTS}) g`);
    await ctx.db.execute(sql`
      insert into webhook_deliveries (event_id, endpoint_id) select 'evt_bench_' || g, ${endpoint!.id}::uuid from generate_series(1, ${EVENTS}) g`);

    const receiverBefore = await ask<{ cpuSeconds: number }>("count");
    const dbCpuBefore = await databaseCpuSeconds(ctx);
    const cpuBefore = process.cpuUsage();
    const t0 = performance.now();
    const dispatcher = startDispatcher(ctx, { pollMs: 100 });
    for (;;) {
      // From the partial index of pending deliveries: the poll costs the database next to nothing.
      const [row] = await queryRows<{ pending: boolean }>(ctx.db, sql`select exists(select 1 from webhook_deliveries where status = 'pending') as pending`);
      if (!row?.pending) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    const dbCpu = cpuSpent(dbCpuBefore, await databaseCpuSeconds(ctx));
    await dispatcher.stop();
    const { count, cpuSeconds: receiverAfter } = await ask<{ count: number; cpuSeconds: number }>("count");
    const rate = EVENTS / seconds;
    console.log(`bench:webhooks  events=${fmt(EVENTS)} concurrency=${CONCURRENCY}`);
    console.log(`  receiver ceiling (plain POSTs)   ${fmt(ceiling)} req/s  (load generator CPU ${fmt((generatorCpu.user + generatorCpu.system) / EVENTS)} µs per request)`);
    console.log(`  mailgate deliveries             ${fmt(rate)} deliveries/s  (${fmt(seconds, 2)} s, receiver counted ${fmt(count)})`);
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
