// GET /metrics against the real pipeline and dispatcher: the exposition parses, carries the
// operational metrics after a message was processed and deliveries attempted, holds no secret,
// and still answers when the database is down.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pushSubscriptions } from "../../../src/db/schema.ts";
import { startDispatcher } from "../../../src/delivery/dispatcher.ts";
import { buildEmail } from "../../helpers/build-email.ts";
import { createCompany, createSource, deliver } from "../../helpers/pipeline.ts";
import { TEST_TOKEN } from "../../helpers/test-context.ts";
import { createOutageContext, type Outage } from "./database-outage.ts";
import { parseExposition, samplesOf, type Sample } from "./exposition.ts";

const URL_SECRET = "url-secret-5c1d9e";

async function startReceiver(status: number) {
  let count = 0;
  const server = http.createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      count++;
      res.statusCode = status;
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`,
    count: () => count,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

async function waitFor(cond: () => boolean, ms = 10_000) {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}

let outage: Outage;
let sourceId: string;
let okEndpoint: { id: string; secret: string };
let failingEndpoint: { id: string };
let subscriptionId: string;
let body: string;
let samples: Sample[];

beforeAll(async () => {
  // One attempt at once, the next an hour later: a failed delivery stays in the retry backlog.
  outage = await createOutageContext({ WEBHOOK_RETRY_SCHEDULE: "0,3600" });
  const { t } = outage;
  sourceId = await createSource(t);
  await createCompany(t, "Acme Corporation", ["acme.com"]);
  const [subscription] = await t.ctx.db
    .insert(pushSubscriptions)
    .values({ sourceId, provider: "graph", externalId: "sub-1", expiresAt: new Date(Date.now() + 3600_000) })
    .returning({ id: pushSubscriptions.id });
  subscriptionId = subscription!.id;

  const ok = await startReceiver(200);
  const failing = await startReceiver(500);
  okEndpoint = (await t.api.post("/api/webhooks").send({ url: `${ok.url}?token=${URL_SECRET}`, events: ["ticket.created"] }).expect(201)).body;
  failingEndpoint = (await t.api.post("/api/webhooks").send({ url: failing.url, events: ["ticket.created"] }).expect(201)).body;
  const dispatcher = startDispatcher(t.ctx, { pollMs: 50 });
  try {
    const msg = await deliver(t, sourceId, buildEmail({ from: "john@acme.com", subject: "Printer is broken" }));
    expect(msg.status).toBe("ticket_created");
    await waitFor(() => ok.count() === 1 && failing.count() === 1);
    await dispatcher.idle();
  } finally {
    await dispatcher.stop();
    await ok.close();
    await failing.close();
  }

  const res = await t.anonymous.get("/metrics").expect(200);
  expect(res.headers["content-type"]).toMatch(/^text\/plain; version=0\.0\.4/);
  body = res.text;
  samples = parseExposition(body);
});
afterAll(async () => outage.close());

describe("GET /metrics", () => {
  it("When Prometheus scrapes without a token, then every line of the answer parses as the text exposition format", () => {
    expect(samples.length).toBeGreaterThan(20);
  });

  it("When a message was processed, then mailgate_messages counts it under its source and status", () => {
    expect(samplesOf(samples, "mailgate_messages", { source: sourceId, status: "ticket_created" })).toEqual([
      expect.objectContaining({ value: 1 }),
    ]);
  });

  it("When a message was processed, then the pipeline latency histogram observed it once", () => {
    expect(samplesOf(samples, "mailgate_pipeline_latency_seconds_count")[0]?.value).toBe(1);
    expect(samplesOf(samples, "mailgate_pipeline_latency_seconds_bucket", { le: "+Inf" })[0]?.value).toBe(1);
  });

  it("When deliveries were attempted, then attempts are counted by endpoint and outcome and their durations observed", () => {
    expect(samplesOf(samples, "mailgate_webhook_delivery_attempts_total", { endpoint: okEndpoint.id, outcome: "succeeded" })[0]?.value).toBe(1);
    expect(samplesOf(samples, "mailgate_webhook_delivery_attempts_total", { endpoint: failingEndpoint.id, outcome: "retrying" })[0]?.value).toBe(1);
    expect(samplesOf(samples, "mailgate_webhook_delivery_duration_seconds_count", { endpoint: okEndpoint.id })[0]?.value).toBe(1);
    expect(samplesOf(samples, "mailgate_webhook_delivery_duration_seconds_count", { endpoint: failingEndpoint.id })[0]?.value).toBe(1);
  });

  it("When a delivery failed and waits for its retry, then the retry backlog counts it as retrying and not yet due", () => {
    expect(samplesOf(samples, "mailgate_webhook_retry_backlog", { state: "retrying" })[0]?.value).toBe(1);
    expect(samplesOf(samples, "mailgate_webhook_retry_backlog", { state: "due" })[0]?.value).toBe(0);
  });

  it("When a source exists, then mailgate_source_status is 1 for its current status", async () => {
    const source = (await outage.t.api.get(`/api/sources/${sourceId}`).expect(200)).body as { status: string; kind: string };
    expect(samplesOf(samples, "mailgate_source_status", { source: sourceId })).toEqual([
      { name: "mailgate_source_status", labels: { source: sourceId, kind: source.kind, name: "Support", status: source.status }, value: 1 },
    ]);
  });

  it("When a push subscription expires in an hour, then its seconds to expiry are about 3600", () => {
    const [expiry] = samplesOf(samples, "mailgate_push_subscription_expiry_seconds", { subscription: subscriptionId, source: sourceId, provider: "graph" });
    expect(expiry?.value).toBeGreaterThan(3500);
    expect(expiry?.value).toBeLessThanOrEqual(3600);
  });

  it("When the database answers, then mailgate_database_up is 1 and the default process metrics are there", () => {
    expect(samplesOf(samples, "mailgate_database_up")[0]?.value).toBe(1);
    expect(samplesOf(samples, "process_cpu_user_seconds_total")).toHaveLength(1);
    expect(samplesOf(samples, "nodejs_heap_size_used_bytes")).toHaveLength(1);
  });

  it("When the answer is read, then it holds no token, webhook secret, webhook URL or database URL", () => {
    expect(body).not.toContain(TEST_TOKEN);
    expect(body).not.toContain(okEndpoint.secret);
    expect(body).not.toContain("whsec_");
    expect(body).not.toContain(URL_SECRET);
    expect(body).not.toContain("127.0.0.1");
    expect(body).not.toContain("postgres://");
  });

  it("When the database is down, then the scrape still answers quickly with mailgate_database_up 0 and without the database gauges", async () => {
    await outage.stopDatabase();
    const started = Date.now();
    const res = await outage.t.anonymous.get("/metrics").expect(200);
    expect(Date.now() - started).toBeLessThan(5_000);
    const down = parseExposition(res.text);
    expect(samplesOf(down, "mailgate_database_up")[0]?.value).toBe(0);
    for (const name of ["mailgate_messages", "mailgate_webhook_retry_backlog", "mailgate_source_status", "mailgate_push_subscription_expiry_seconds"]) {
      expect(samplesOf(down, name), name).toEqual([]);
    }
    // What the process itself counted is still reported.
    expect(samplesOf(down, "mailgate_pipeline_latency_seconds_count")[0]?.value).toBe(1);
  });
});
