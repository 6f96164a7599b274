// bench:gmail — push received → ticket committed, over 500 Gmail notifications, one after the
// other, against the loopback fake of Google and a real Postgres. mailgate runs in-process: HTTP
// on 127.0.0.1, the Gmail sync workers and the pipeline workers. Each round: a new email lands in
// the fake mailbox, then Pub/Sub's push (signed OIDC token) is POSTed to /push/gmail; the clock
// stops when the ticket's transaction has committed.
import type { AddressInfo } from "node:net";
import { cpus, loadavg } from "node:os";
import { eq } from "drizzle-orm";
import { companies, companyDomains, inboundMessages } from "../src/db/schema.ts";
import { createApp } from "../src/http/app.ts";
import { startPipelineWorkers } from "../src/pipeline/worker.ts";
import { startGmailSources } from "../src/sources/gmail/runtime.ts";
import { PUSH_SERVICE_ACCOUNT, TOPIC, startFakeGoogle } from "../tests/fakes/google/fake-google.ts";
import { buildEmail } from "../tests/helpers/build-email.ts";
import { benchContext, fmt } from "./bench-database.ts";

const COUNT = Number(process.env.BENCH_NOTIFICATIONS ?? 500);
const PIPELINE_WORKERS = Number(process.env.WORKER_CONCURRENCY ?? 2);
const AUDIENCE = "https://mailgate.example.com/push/gmail";

async function main() {
  const google = await startFakeGoogle();
  const { ctx, close } = await benchContext({ ...google.env(), GMAIL_PUSH_AUDIENCE: AUDIENCE, PUBLIC_URL: "http://127.0.0.1:3000" });
  const server = createApp(ctx).listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const admin = { authorization: `Bearer ${ctx.adminToken}`, "content-type": "application/json" };
  const runtimes: { stop(): Promise<void> }[] = [];
  try {
    const [company] = await ctx.db.insert(companies).values({ name: "Acme" }).returning();
    await ctx.db.insert(companyDomains).values({ domain: "acme.com", companyId: company!.id });
    const created = await fetch(`${base}/api/sources`, {
      method: "POST",
      headers: admin,
      body: JSON.stringify({
        kind: "gmail",
        name: "Support",
        address: google.mailbox.emailAddress,
        role: "system",
        gmail: { clientId: google.client.clientId, clientSecret: google.client.clientSecret, redirectUri: google.client.redirectUris[0], topicName: TOPIC },
      }),
    });
    const sourceId = ((await created.json()) as { id: string }).id;
    const authorize = (await (await fetch(`${base}/api/sources/${sourceId}/authorize`, { method: "POST", headers: admin, body: "{}" })).json()) as { authorizationUrl: string };
    const callback = new URL(await google.consent(authorize.authorizationUrl));
    const connected = await fetch(`${base}${callback.pathname}${callback.search}`);
    if (connected.status !== 200) throw new Error(`authorization failed: ${connected.status} ${await connected.text()}`);

    // One notification at a time: two pipeline workers (one per core) are enough, and every idle
    // worker costs a claim transaction on each wake.
    runtimes.push(startPipelineWorkers(ctx, { pollMs: 1000, concurrency: PIPELINE_WORKERS }), startGmailSources(ctx, { pollMs: 1000 }));
    await new Promise((r) => setTimeout(r, 500)); // the start-up sync

    const ticketCommitted = (messageId: string) =>
      new Promise<void>((resolve) => {
        let done = false;
        const check = async () => {
          if (done) return;
          const [row] = await ctx.db.select({ ticketId: inboundMessages.ticketId }).from(inboundMessages).where(eq(inboundMessages.providerMessageId, messageId));
          if (row?.ticketId && !done) {
            done = true;
            off();
            clearInterval(poll);
            resolve();
          }
        };
        // The pipeline wakes "deliveries" right after the ticket's transaction commits.
        const off = ctx.database.onWake("deliveries", () => void check());
        // A fallback only: the wake above is what stops the clock.
        const poll = setInterval(() => void check(), 250);
      });

    const total: number[] = [];
    const ack: number[] = [];
    const stored: number[] = [];
    let storedAt = 0;
    ctx.database.onWake("inbound", () => void (storedAt = performance.now()));
    const bodies = Array.from({ length: COUNT }, (_, i) => buildEmail({ from: `user${i % 50}@acme.com`, subject: `Bench ${i}: printer jam`, text: `Body ${i}` }));
    const cpuBefore = process.cpuUsage();
    const wallBefore = performance.now();
    for (const raw of bodies) {
      const { message } = await google.deliver(raw, { notify: false });
      const request = google.pushRequest({ token: google.oauth.signPushToken({ audience: AUDIENCE, email: PUSH_SERVICE_ACCOUNT }) });
      const committed = ticketCommitted(message.id);
      const t0 = performance.now();
      const res = await fetch(`${base}/push/gmail`, { method: "POST", headers: request.headers, body: JSON.stringify(request.body) });
      ack.push(performance.now() - t0);
      if (res.status !== 204) throw new Error(`push answered ${res.status}: ${await res.text()}`);
      await committed;
      total.push(performance.now() - t0);
      stored.push(storedAt - t0);
    }

    const cpu = process.cpuUsage(cpuBefore);
    const wall = performance.now() - wallBefore;
    const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)]!;
    console.log(`bench:gmail  notifications=${fmt(COUNT)} database=postgres, fake Google on loopback, one notification at a time, ${PIPELINE_WORKERS} pipeline workers`);
    console.log(`  machine: ${cpus().length} cores, load average ${loadavg().map((l) => l.toFixed(1)).join(" ")} (other work on the machine shows in the tail)`);
    console.log(`  push received → ticket committed   p50 ${fmt(pct(total, 50), 1)} ms   p90 ${fmt(pct(total, 90), 1)} ms   p99 ${fmt(pct(total, 99), 1)} ms   max ${fmt(Math.max(...total), 1)} ms   (goal p99 < 100 ms)`);
    console.log(`  push received → 204 (request durable) p50 ${fmt(pct(ack, 50), 1)} ms   p99 ${fmt(pct(ack, 99), 1)} ms`);
    console.log(`  push received → raw MIME stored       p50 ${fmt(pct(stored, 50), 1)} ms   p99 ${fmt(pct(stored, 99), 1)} ms`);
    console.log(
      `  mailgate + fake Google process CPU ${fmt((cpu.user + cpu.system) / 1000 / COUNT, 1)} ms per notification (${fmt(((cpu.user + cpu.system) / 1000 / wall) * 100)} % of one core over the run)`,
    );
    const gmailCalls = google.requests.filter((r) => r.path.startsWith("/gmail/")).length;
    console.log(`  Gmail API calls ${fmt(gmailCalls)} (${fmt(gmailCalls / COUNT, 2)} per notification), token refreshes ${google.oauth.tokenRequests.filter((r) => r.grantType === "refresh_token").length}`);
  } finally {
    for (const r of runtimes.reverse()) await r.stop();
    server.close();
    await close();
    await google.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
