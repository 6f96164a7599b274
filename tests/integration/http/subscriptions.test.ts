// The subscriptions API: every push subscription with its expiry, and renewal on demand.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { events, mailSources, pushSubscriptions } from "../../../src/db/schema.ts";
import { startGraphHarness, type GraphHarness } from "../graph/graph-harness.ts";

let h: GraphHarness;
let sourceId: string;

beforeAll(async () => {
  h = await startGraphHarness();
  sourceId = await h.createGraphSource();
  await h.authorize(sourceId);
});
afterAll(async () => h.close());

const renewalFailedEvents = async () => (await h.t.ctx.db.select().from(events)).filter((e) => e.type === "subscription.renewal_failed");

/** Makes the subscription look close to its end, here and at the fake. */
async function nearExpiry(minutes: number) {
  const row = (await h.subscriptionOf(sourceId))!;
  const at = new Date(Date.now() + minutes * 60_000);
  await h.t.ctx.db.update(pushSubscriptions).set({ expiresAt: at }).where(eq(pushSubscriptions.id, row.id));
  const atGraph = h.fake.subscriptions.all.get(row.externalId);
  if (atGraph) atGraph.expirationDateTime = at.toISOString();
  return { row, at };
}

describe("GET /api/subscriptions", () => {
  it("lists every subscription with its provider, external id, expiry and status", async () => {
    const sub = (await h.subscriptionOf(sourceId))!;
    const res = await h.t.api.get("/api/subscriptions").expect(200);
    expect(res.body.items).toContainEqual(
      expect.objectContaining({
        id: sub.id,
        sourceId,
        provider: "graph",
        externalId: sub.externalId,
        expiresAt: sub.expiresAt!.toISOString(),
        lastRenewedAt: sub.lastRenewedAt!.toISOString(),
        status: "active",
      }),
    );
    expect(JSON.stringify(res.body)).not.toContain(h.t.ctx.secrets.open(sub.clientState!));
  });

  it("filters by sourceId, and names an unknown or malformed one", async () => {
    const other = await h.createGraphSource({ name: "Not authorized" });
    expect((await h.t.api.get(`/api/subscriptions?sourceId=${other}`).expect(200)).body.items).toEqual([]);
    await h.t.api.get("/api/subscriptions?sourceId=00000000-0000-4000-8000-000000000000").expect(404);
    const bad = await h.t.api.get("/api/subscriptions?sourceId=nope").expect(400);
    expect(bad.body.error.details[0].field).toBe("sourceId");
  });

  it("needs the admin token", async () => {
    await h.t.anonymous.get("/api/subscriptions").expect(401);
  });
});

describe("POST /api/subscriptions/renew", () => {
  it("When renewed now, then the expiry moves to the configured maximum that Graph granted", async () => {
    const { row, at } = await nearExpiry(30);
    const res = await h.t.api.post(`/api/subscriptions/renew?sourceId=${sourceId}`).send({}).expect(200);
    expect(res.body.results).toHaveLength(1);
    const [result] = res.body.results;
    expect(result).toMatchObject({ id: row.id, ok: true });
    expect(Date.parse(result.expiresAt)).toBeGreaterThan(at.getTime() + 6 * 24 * 60 * 60_000);
    expect(result.expiresAt).toBe(h.fake.subscriptions.all.get(row.externalId)!.expirationDateTime);
    expect((await h.subscriptionOf(sourceId))!.expiresAt!.toISOString()).toBe(result.expiresAt);
  });

  it("When the Graph subscription has expired, then it is re-created (new handshake, same row) rather than left dead", async () => {
    const before = (await h.subscriptionOf(sourceId))!;
    await h.t.ctx.db.update(pushSubscriptions).set({ expiresAt: new Date(Date.now() - 60_000) }).where(eq(pushSubscriptions.id, before.id));
    h.fake.subscriptions.all.delete(before.externalId);
    const res = await h.t.api.post("/api/subscriptions/renew").send({}).expect(200);
    expect(res.body.results).toContainEqual(expect.objectContaining({ id: before.id, ok: true }));
    const after = (await h.subscriptionOf(sourceId))!;
    expect(after.externalId).not.toBe(before.externalId);
    expect(h.fake.subscriptions.live(after.externalId)).toBeDefined();
    expect(after.expiresAt!.getTime()).toBeGreaterThan(Date.now());
  });

  it("When Graph no longer knows the subscription, then the PATCH's 404 leads to a new one", async () => {
    const before = (await h.subscriptionOf(sourceId))!;
    h.fake.subscriptions.all.delete(before.externalId);
    const res = await h.t.api.post(`/api/subscriptions/renew?sourceId=${sourceId}`).send({}).expect(200);
    expect(res.body.results[0]).toMatchObject({ ok: true });
    expect((await h.subscriptionOf(sourceId))!.externalId).not.toBe(before.externalId);
  });

  it("When renewal fails, then the result says why, the source shows it, and renewal_failed fires once per failure streak", async () => {
    const eventsBefore = (await renewalFailedEvents()).length;
    // More 503s than the Graph client's three retries.
    h.fake.throttle({ method: "PATCH", pathIncludes: "/subscriptions/", status: 503, retryAfterSeconds: 0, times: 8 });
    for (let i = 0; i < 2; i++) {
      const res = await h.t.api.post(`/api/subscriptions/renew?sourceId=${sourceId}`).send({}).expect(200);
      expect(res.body.results[0]).toMatchObject({ ok: false, error: { code: "throttled" } });
      expect(res.body.results[0].error.message).toContain("Renewing the Microsoft Graph subscription failed");
    }
    const fired = (await renewalFailedEvents()).slice(eventsBefore);
    expect(fired).toHaveLength(1);
    expect(fired[0]!.payload).toMatchObject({ data: { subscription: { sourceId, provider: "graph" }, error: { code: "throttled" } } });
    const source = await h.t.api.get(`/api/sources/${sourceId}`).expect(200);
    expect(source.body.lastError).toContain("Renewing the Microsoft Graph subscription failed");
    expect((await h.subscriptionOf(sourceId))!.status).toBe("failing");

    const recovered = await h.t.api.post(`/api/subscriptions/renew?sourceId=${sourceId}`).send({}).expect(200);
    expect(recovered.body.results[0]).toMatchObject({ ok: true });
    expect((await h.subscriptionOf(sourceId))!.status).toBe("active");
    expect((await h.t.api.get(`/api/sources/${sourceId}`).expect(200)).body.lastError).toBeNull();
  });

  it("renews Gmail watches through the Gmail source and reports their outcome alongside", async () => {
    const gmail = await h.t.api
      .post("/api/sources")
      .send({
        kind: "gmail",
        name: "Gmail",
        address: "help@example.com",
        role: "system",
        gmail: { clientId: "c.apps.googleusercontent.com", clientSecret: "s", redirectUri: "https://mg.example.com/admin/oauth/google/callback" },
      })
      .expect(201);
    const [watch] = await h.t.ctx.db
      .insert(pushSubscriptions)
      .values({ sourceId: gmail.body.id, provider: "gmail", externalId: "help@example.com", expiresAt: new Date(Date.now() + 86_400_000) })
      .returning();
    const res = await h.t.api.post(`/api/subscriptions/renew?sourceId=${gmail.body.id}`).send({}).expect(200);
    expect(res.body.results).toEqual([expect.objectContaining({ id: watch!.id, ok: expect.any(Boolean) })]);
    const [source] = await h.t.ctx.db.select().from(mailSources).where(eq(mailSources.id, gmail.body.id));
    if (!res.body.results[0].ok) expect(source!.lastError).toContain(res.body.results[0].error.message);
  });
});
