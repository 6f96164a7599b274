// Retention with an injected clock: raw MIME of processed mail goes after RETENTION_DAYS, the
// mail still waiting for someone (received, failed, unrouted) keeps its bytes, webhook attempts
// and error log entries go after their own periods.
import { createHash } from "node:crypto";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { errorLog, inboundMessages, webhookAttempts, webhookDeliveries } from "../../../src/db/schema.ts";
import { runRetention, startRetention } from "../../../src/scheduler/retention.ts";
import { buildEmail } from "../../helpers/build-email.ts";
import { createCompany, createSource, deliver } from "../../helpers/pipeline.ts";
import { createTestContext, type TestContext } from "../../helpers/test-context.ts";
import type { InboundStatus } from "../../../src/db/statuses.ts";

const DAY = 24 * 60 * 60 * 1000;
// Real time moved forward by whole days: intake stamps next_attempt_at with the database's own
// clock, and the worker claims only what is due by the injected one.
const T0 = new Date();
const clock = { offsetDays: 0, now: () => new Date(Date.now() + clock.offsetDays * DAY) };
const daysAfterT0 = (days: number) => new Date(T0.getTime() + days * DAY);

let t: TestContext;
let sourceId: string;
const ids: Record<string, string> = {};

/** Stores a message as a source would, in a status the pipeline cannot be relied on to produce. */
async function storeDirectly(status: InboundStatus, processedAt: Date | null): Promise<string> {
  const raw = buildEmail({ subject: `kept while ${status}` });
  const [row] = await t.ctx.db
    .insert(inboundMessages)
    .values({
      sourceId,
      providerMessageId: `direct-${status}`,
      raw,
      rawSize: raw.length,
      rawSha256: createHash("sha256").update(raw).digest("hex"),
      status,
      error: status === "failed" ? "Processing failed: test" : null,
      receivedAt: T0,
      nextAttemptAt: daysAfterT0(3650), // not due: the pipeline must not touch it in these tests
      processedAt,
    })
    .returning({ id: inboundMessages.id });
  return row!.id;
}

const rawStatus = async (id: string) => (await t.api.get(`/api/inbound-messages/${id}/raw`)).status;

beforeAll(async () => {
  t = await createTestContext({ clock, env: { RETENTION_DAYS: "30", WEBHOOK_ATTEMPT_RETENTION_DAYS: "30", ERROR_LOG_RETENTION_DAYS: "90" } });
  sourceId = await createSource(t);
  await createCompany(t, "Acme Corporation", ["acme.com"]);
  await t.api.post("/api/webhooks").send({ url: "http://127.0.0.1:9/hooks", events: ["ticket.created"] }).expect(201);

  ids.ticket = (await deliver(t, sourceId, buildEmail({ from: "john@acme.com", subject: "Printer is broken" }))).id;
  ids.ignored = (await deliver(t, sourceId, buildEmail({ from: "john@acme.com", subject: "Out of office", headers: { "Auto-Submitted": "auto-replied" } }))).id;
  ids.unrouted = (await deliver(t, sourceId, buildEmail({ from: "someone@unknown.example", subject: "Who handles this?" }))).id;
  ids.failed = await storeDirectly("failed", T0);
  ids.received = await storeDirectly("received", null);
});
afterAll(async () => t.close());

describe("runRetention", () => {
  it("When the messages were processed as expected, then their statuses are the ones these tests rely on", async () => {
    const statuses = await Promise.all(
      Object.entries(ids).map(async ([name, id]) => [name, (await t.api.get(`/api/inbound-messages/${id}`).expect(200)).body.status]),
    );
    expect(Object.fromEntries(statuses)).toEqual({ ticket: "ticket_created", ignored: "ignored", unrouted: "unrouted", failed: "failed", received: "received" });
  });

  it("When fewer than RETENTION_DAYS have passed, then every raw message is kept", async () => {
    const result = await runRetention(t.ctx, daysAfterT0(29));
    expect(result.rawPurged).toBe(0);
    for (const id of Object.values(ids)) expect(await rawStatus(id)).toBe(200);
  });

  it("When RETENTION_DAYS have passed, then processed mail loses its raw bytes and records when, and waiting mail keeps them", async () => {
    const now = daysAfterT0(31);
    const result = await runRetention(t.ctx, now);
    expect(result.rawPurged).toBe(2);
    for (const name of ["ticket", "ignored"]) {
      expect(await rawStatus(ids[name]!), name).toBe(410);
      const summary = (await t.api.get(`/api/inbound-messages/${ids[name]}`).expect(200)).body;
      expect(summary).toMatchObject({ hasRaw: false, rawPurgedAt: now.toISOString() });
    }
    for (const name of ["unrouted", "failed", "received"]) expect(await rawStatus(ids[name]!), name).toBe(200);
  });

  it("When run again, then nothing more is purged and the purge time stays the first one", async () => {
    const result = await runRetention(t.ctx, daysAfterT0(40));
    expect(result.rawPurged).toBe(0);
    const summary = (await t.api.get(`/api/inbound-messages/${ids.ticket}`).expect(200)).body;
    expect(summary.rawPurgedAt).toBe(daysAfterT0(31).toISOString());
  });

  it("When more messages are due than one batch holds, then every batch is run until none is left", async () => {
    clock.offsetDays = 50;
    for (let i = 0; i < 5; i++) await deliver(t, sourceId, buildEmail({ from: "john@acme.com", subject: `batch ${i}` }));
    const result = await runRetention(t.ctx, daysAfterT0(81), { batchSize: 2 });
    expect(result.rawPurged).toBe(5);
  });

  it("When webhook attempts are older than WEBHOOK_ATTEMPT_RETENTION_DAYS, then they are deleted and newer ones kept", async () => {
    const [delivery] = await t.ctx.db.select({ id: webhookDeliveries.id }).from(webhookDeliveries).limit(1);
    expect(delivery).toBeDefined();
    const now = daysAfterT0(200);
    const attempt = (daysAgo: number) => ({ deliveryId: delivery!.id, attemptedAt: new Date(now.getTime() - daysAgo * DAY), statusCode: 500, durationMs: 12 });
    await t.ctx.db.insert(webhookAttempts).values([attempt(31), attempt(45), attempt(29), attempt(1)]);
    const result = await runRetention(t.ctx, now, { batchSize: 1 });
    expect(result.webhookAttemptsDeleted).toBe(2);
    const left = await t.ctx.db.select({ at: webhookAttempts.attemptedAt }).from(webhookAttempts).where(eq(webhookAttempts.deliveryId, delivery!.id));
    expect(left.map((a) => (now.getTime() - a.at.getTime()) / DAY).sort((a, b) => a - b)).toEqual([1, 29]);
  });

  it("When error log entries are older than ERROR_LOG_RETENTION_DAYS, then they are deleted and newer ones kept", async () => {
    const now = daysAfterT0(400);
    const entry = (daysAgo: number) => ({ at: new Date(now.getTime() - daysAgo * DAY), kind: "connection_failed" as const, message: `${daysAgo} days ago` });
    await t.ctx.db.delete(errorLog);
    await t.ctx.db.insert(errorLog).values([entry(91), entry(120), entry(89)]);
    const result = await runRetention(t.ctx, now);
    expect(result.errorLogDeleted).toBe(2);
    expect((await t.ctx.db.select({ message: errorLog.message }).from(errorLog)).map((e) => e.message)).toEqual(["89 days ago"]);
  });
});

describe("startRetention", () => {
  it("When a worker starts, then retention runs at once, and stopping it waits for the run to finish", async () => {
    clock.offsetDays = 500;
    const id = (await deliver(t, sourceId, buildEmail({ from: "john@acme.com", subject: "purged at start" }))).id;
    clock.offsetDays = 531;
    const retention = startRetention(t.ctx, { intervalMs: 60 * 60 * 1000 });
    const deadline = Date.now() + 10_000;
    while ((await rawStatus(id)) !== 410 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await retention.stop();
    expect(await rawStatus(id)).toBe(410);
  });
});
