import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq, sql } from "drizzle-orm";
import { queryRows } from "../../../src/db/client.ts";
import { inboundMessages, mailSources, outboundMessages, pushSubscriptions, webhookAttempts, webhookEndpoints } from "../../../src/db/schema.ts";
import { buildEmail } from "../../helpers/build-email.ts";
import { createCompany, createSource, drainPipeline, postRaw } from "../../helpers/pipeline.ts";
import { createTestContext, type TestContext } from "../../helpers/test-context.ts";

// The test's clock: mail is stamped received when posted and processed when drained, so each
// step below sets the time it happens at.
let now = Date.parse("2026-03-10T09:00:00.000Z");
const setTime = (iso: string) => void (now = Date.parse(iso));

let t: TestContext;
beforeAll(async () => {
  t = await createTestContext({ clock: { now: () => new Date(now) } });
});
afterAll(async () => t.close());

const WINDOW = "from=2026-03-10T09:00:00Z&to=2026-03-10T09:05:00Z&bucket=minute";
const EMPTY_BUCKET = {
  received: 0,
  ticketCreated: 0,
  noteAdded: 0,
  leadCreated: 0,
  ignored: 0,
  duplicate: 0,
  unrouted: 0,
  failed: 0,
  deliveriesSucceeded: 0,
  deliveriesFailed: 0,
  outboundSent: 0,
  outboundFailed: 0,
  latencyMs: { count: 0, p50: null, p95: null },
};

async function receive(sourceId: string, raw: Buffer, at: string, processedAt: string | null) {
  setTime(at);
  const id = await postRaw(t, sourceId, raw);
  if (processedAt) {
    setTime(processedAt);
    await drainPipeline(t);
  }
  return id;
}

let support: string;
let sales: string;
let endpointId: string;

/**
 * Five minutes of mail, one minute each: a new ticket (250 ms), a second ticket (1 s) with a note
 * on the first, mail from an unknown domain and an auto-reply, a copy of the first through the
 * other mailbox and a failed one; minute 4 stores a mail nobody has processed yet.
 */
beforeAll(async () => {
  await createCompany(t, "Acme", ["acme.com"]);
  support = await createSource(t, { name: "Support", address: "support@mailgate.test" });
  sales = await createSource(t, { name: "Sales", address: "sales@mailgate.test" });
  endpointId = ((await t.api.post("/api/webhooks").send({ url: "http://127.0.0.1:9/hook" }).expect(201)).body as { id: string }).id;

  const first = buildEmail({ from: "alice@acme.com", messageId: "<first@acme.com>" });
  await receive(support, first, "2026-03-10T09:00:10.000Z", "2026-03-10T09:00:10.250Z");
  await receive(support, buildEmail({ from: "bob@acme.com" }), "2026-03-10T09:01:05.000Z", "2026-03-10T09:01:06.000Z");
  await receive(support, buildEmail({ from: "alice@acme.com", subject: "Re: Printer is broken", inReplyTo: "<first@acme.com>" }), "2026-03-10T09:01:20.000Z", "2026-03-10T09:01:20.100Z");
  await receive(support, buildEmail({ from: "someone@stranger.example" }), "2026-03-10T09:02:00.000Z", "2026-03-10T09:02:00.050Z");
  await receive(support, buildEmail({ from: "carol@acme.com", headers: { "Auto-Submitted": "auto-replied" } }), "2026-03-10T09:02:01.000Z", "2026-03-10T09:02:01.050Z");
  await receive(sales, first, "2026-03-10T09:02:30.000Z", "2026-03-10T09:02:30.050Z");
  const broken = await receive(sales, buildEmail({ from: "dave@acme.com" }), "2026-03-10T09:03:00.000Z", null);
  await t.ctx.db
    .update(inboundMessages)
    .set({ status: "failed", error: "Processing failed: test", processedAt: new Date("2026-03-10T09:03:30.000Z") })
    .where(eq(inboundMessages.id, broken));
  await receive(support, buildEmail({ from: "erin@acme.com" }), "2026-03-10T09:04:59.999Z", null);

  // Three deliveries were queued (two new tickets, one reply); attempts on the first one.
  const [delivery] = await queryRows<{ id: string }>(t.ctx.db, sql`select id from webhook_deliveries order by created_at limit 1`);
  await t.ctx.db.insert(webhookAttempts).values([
    { deliveryId: delivery!.id, attemptedAt: new Date("2026-03-10T09:02:10.000Z"), statusCode: 500, durationMs: 12 },
    { deliveryId: delivery!.id, attemptedAt: new Date("2026-03-10T09:02:40.000Z"), statusCode: null, error: "timed out", durationMs: 15_000 },
    { deliveryId: delivery!.id, attemptedAt: new Date("2026-03-10T09:03:10.000Z"), statusCode: 204, durationMs: 9 },
  ]);
  await t.ctx.db.insert(outboundMessages).values([
    { kind: "reply", recipient: "alice@acme.com", status: "sent", sentAt: new Date("2026-03-10T09:01:40.000Z") },
    { kind: "reply", recipient: "bob@acme.com", status: "failed", updatedAt: new Date("2026-03-10T09:03:50.000Z"), lastError: "550 no such user" },
    { kind: "reply", recipient: "bob@acme.com", status: "queued" },
  ]);
  setTime("2026-03-10T09:05:30.000Z");
});

describe("GET /api/stats", () => {
  it("When mail went through the pipeline, then each bucket counts what was received and what became of it, minute by minute", async () => {
    const res = await t.api.get(`/api/stats?${WINDOW}`).expect(200);
    expect(res.body).toMatchObject({ from: "2026-03-10T09:00:00.000Z", to: "2026-03-10T09:05:00.000Z", bucket: "minute", bucketSeconds: 60 });
    expect(res.body.buckets).toEqual([
      { ...EMPTY_BUCKET, start: "2026-03-10T09:00:00.000Z", received: 1, ticketCreated: 1, latencyMs: { count: 1, p50: 250, p95: 250 } },
      { ...EMPTY_BUCKET, start: "2026-03-10T09:01:00.000Z", received: 2, ticketCreated: 1, noteAdded: 1, outboundSent: 1, latencyMs: { count: 1, p50: 1000, p95: 1000 } },
      { ...EMPTY_BUCKET, start: "2026-03-10T09:02:00.000Z", received: 3, unrouted: 1, ignored: 1, duplicate: 1, deliveriesFailed: 2 },
      { ...EMPTY_BUCKET, start: "2026-03-10T09:03:00.000Z", received: 1, failed: 1, deliveriesSucceeded: 1, outboundFailed: 1 },
      { ...EMPTY_BUCKET, start: "2026-03-10T09:04:00.000Z", received: 1 },
    ]);
    expect(res.body.totals).toEqual({
      ...EMPTY_BUCKET,
      received: 8,
      ticketCreated: 2,
      noteAdded: 1,
      ignored: 1,
      duplicate: 1,
      unrouted: 1,
      failed: 1,
      deliveriesSucceeded: 1,
      deliveriesFailed: 2,
      outboundSent: 1,
      outboundFailed: 1,
      latencyMs: { count: 2, p50: 250, p95: 1000 },
    });
  });

  it("When sources received mail, then each has its own line per bucket and the time of its last mail", async () => {
    const res = await t.api.get(`/api/stats?${WINDOW}`).expect(200);
    expect(res.body.sources).toEqual([
      { id: sales, name: "Sales", kind: "api", status: "connected", received: [0, 0, 1, 1, 0], lastReceivedAt: "2026-03-10T09:03:00.000Z" },
      { id: support, name: "Support", kind: "api", status: "connected", received: [1, 2, 2, 0, 1], lastReceivedAt: "2026-03-10T09:04:59.999Z" },
    ]);
  });

  it("When a window holds no mail, then every one of its buckets is still there, with zeros, and a source's last mail is still named", async () => {
    const res = await t.api.get("/api/stats?from=2026-03-09T00:00:00Z&to=2026-03-09T03:00:00Z&bucket=hour").expect(200);
    expect(res.body.buckets.map((b: { start: string }) => b.start)).toEqual(["2026-03-09T00:00:00.000Z", "2026-03-09T01:00:00.000Z", "2026-03-09T02:00:00.000Z"]);
    expect(res.body.buckets.every((b: Record<string, unknown>) => JSON.stringify({ ...b, start: undefined }) === JSON.stringify({ ...EMPTY_BUCKET, start: undefined }))).toBe(true);
    expect(res.body.totals).toEqual(EMPTY_BUCKET);
    expect(res.body.sources.map((s: { received: number[]; lastReceivedAt: string }) => [s.received, s.lastReceivedAt])).toEqual([
      [[0, 0, 0], "2026-03-10T09:03:00.000Z"],
      [[0, 0, 0], "2026-03-10T09:04:59.999Z"],
    ]);
  });

  it("When nothing is asked, then the last 24 hours are counted in 15-minute buckets, widened to whole ones", async () => {
    const res = await t.api.get("/api/stats").expect(200);
    expect(res.body).toMatchObject({ from: "2026-03-09T09:00:00.000Z", to: "2026-03-10T09:15:00.000Z", bucket: "15m", bucketSeconds: 900 });
    expect(res.body.buckets).toHaveLength(97);
    expect(res.body.buckets[96]).toMatchObject({ start: "2026-03-10T09:00:00.000Z", received: 8, ticketCreated: 2 });
    expect(res.body.totals.received).toBe(8);
  });

  it("When things wait for a person, then attention counts them now, whatever the window", async () => {
    await t.ctx.db.update(mailSources).set({ status: "error" }).where(eq(mailSources.id, support));
    await t.ctx.db.update(mailSources).set({ status: "needs_reauth" }).where(eq(mailSources.id, sales));
    await t.ctx.db.insert(pushSubscriptions).values([
      { sourceId: sales, provider: "gmail", externalId: "watch-soon", expiresAt: new Date(now + 12 * 3600_000) },
      { sourceId: sales, provider: "gmail", externalId: "watch-later", expiresAt: new Date(now + 72 * 3600_000) },
    ]);
    await t.ctx.db.update(webhookEndpoints).set({ failingSince: new Date(now - 3600_000) }).where(eq(webhookEndpoints.id, endpointId));
    await t.api.post("/api/webhooks").send({ url: "http://127.0.0.1:9/other" }).expect(201);
    const disabled = (await t.api.post("/api/webhooks").send({ url: "http://127.0.0.1:9/gone" }).expect(201)).body as { id: string };
    await t.api.patch(`/api/webhooks/${disabled.id}`).send({ enabled: false }).expect(200);

    const res = await t.api.get("/api/stats?from=2020-01-01&to=2020-01-02").expect(200);
    expect(res.body.attention).toEqual({
      unrouted: 1,
      failed: 1,
      sourcesInError: 1,
      sourcesNeedingReauth: 1,
      subscriptionsExpiringWithinDay: 1,
      endpointsFailing: 1,
      endpointsDisabled: 1,
      outboundFailed: 1,
      deliveriesBacklog: 3,
    });
    expect(res.body.sources.map((s: { status: string }) => s.status)).toEqual(["needs_reauth", "error"]);
  });

  it("When the query cannot be counted, then it is a 400 that says what to fix", async () => {
    const problem = async (query: string) => {
      const res = await t.api.get(`/api/stats?${query}`).expect(400);
      expect(res.body.error.code).toBe("validation_failed");
      return res.body.error.details as { field: string; message: string }[];
    };
    expect(await problem("from=yesterday")).toEqual([{ field: "from", message: expect.stringContaining("expected an ISO 8601 time") }]);
    expect(await problem("from=2026-03-10T10:00:00Z&to=2026-03-10T09:00:00Z")).toEqual([{ field: "from", message: expect.stringContaining("must be earlier than to") }]);
    expect(await problem("from=2026-03-10T09:00:00Z&to=2026-03-10T09:00:00Z")).toEqual([{ field: "from", message: expect.stringContaining("must be earlier than to") }]);
    expect(await problem("bucket=week")).toEqual([{ field: "bucket", message: expect.stringContaining("minute, 5m, 15m, hour, day") }]);
    expect(await problem("from=2026-01-01&to=2026-03-01&bucket=minute")).toEqual([{ field: "bucket", message: expect.stringContaining("choose a larger bucket") }]);
    expect(await problem("window=day")).toEqual([{ field: "window", message: "unknown field; remove it" }]);
  });

  it("When the admin token is missing, then it is a 401", async () => {
    await t.anonymous.get("/api/stats").expect(401);
  });
});
