// Gaps: whatever Graph failed to notify (missed, a removed subscription, mailgate being down, a
// lost delta state) is caught up with the delta query, and every mail of the gap is ticketed once.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { inboundMessages, mailSources, syncRequests, tickets } from "../../../src/db/schema.ts";
import { forgetAccessToken } from "../../../src/sources/graph/graph-tokens.ts";
import { buildEmail } from "../../helpers/build-email.ts";
import { drainPipeline } from "../../helpers/pipeline.ts";
import { startGraphHarness, waitFor, type GraphHarness } from "./graph-harness.ts";

let h: GraphHarness;
let sourceId: string;

beforeEach(async () => {
  h = await startGraphHarness();
  sourceId = await h.createGraphSource();
  await h.authorize(sourceId);
});
afterEach(async () => h.close());

const deliverQuietly = async (subjects: string[]) => {
  for (const subject of subjects) await h.fake.deliver(buildEmail({ from: "john@acme.com", subject }), { notify: false });
};

const ticketSubjects = async () => {
  await drainPipeline(h.t);
  return (await h.t.ctx.db.select({ subject: tickets.subject }).from(tickets).where(eq(tickets.sourceId, sourceId)))
    .map((r) => r.subject)
    .sort();
};

const storedIds = async () =>
  (await h.t.ctx.db.select({ id: inboundMessages.providerMessageId }).from(inboundMessages).where(eq(inboundMessages.sourceId, sourceId))).map(
    (r) => r.id,
  );

/** Waits for the first catch-up (after authorization) to leave a deltaLink behind. */
const caughtUp = () =>
  waitFor(async () => {
    const [row] = await h.t.ctx.db.select({ cursor: mailSources.cursor }).from(mailSources).where(eq(mailSources.id, sourceId));
    return typeof (row?.cursor as { deltaLink?: unknown } | null)?.deltaLink === "string";
  }, "a deltaLink in the cursor");

describe("catching up with the delta query", () => {
  it("When Graph reports missed notifications, then every mail of the gap is ticketed once", async () => {
    h.startRuntime();
    await caughtUp();
    await deliverQuietly(["Gap one", "Gap two", "Gap three"]);
    await h.fake.deliver(buildEmail({ from: "john@acme.com", subject: "Notified too" }));
    const sub = await h.subscriptionOf(sourceId);
    expect((await h.fake.lifecycle(sub!.externalId, "missed")).status).toBe(202);
    await waitFor(async () => (await storedIds()).length === 4, "four stored messages");
    expect(new Set(await storedIds()).size).toBe(4);
    expect(await ticketSubjects()).toEqual(["Gap one", "Gap three", "Gap two", "Notified too"]);
    expect(h.fake.requests.filter((r) => r.path.includes("/delta")).every((r) => r.path.includes("changeType=created") || r.path.includes("token="))).toBe(true);
  });

  it("When Graph removes the subscription, then a new one is created after a new handshake and the gap is caught up", async () => {
    h.startRuntime();
    await caughtUp();
    const before = await h.subscriptionOf(sourceId);
    await deliverQuietly(["While removed 1", "While removed 2"]);
    expect((await h.fake.lifecycle(before!.externalId, "subscriptionRemoved")).status).toBe(202);
    await waitFor(async () => (await h.subscriptionOf(sourceId))?.externalId !== before!.externalId, "a new subscription");
    const after = await h.subscriptionOf(sourceId);
    expect(after!.id).toBe(before!.id);
    expect(h.fake.subscriptions.live(after!.externalId)).toBeDefined();
    await waitFor(async () => (await storedIds()).length === 2, "the gap's two messages");
    await h.fake.deliver(buildEmail({ from: "john@acme.com", subject: "Through the new subscription" }));
    await waitFor(async () => (await storedIds()).length === 3, "the new subscription's message");
    expect(await ticketSubjects()).toEqual(["Through the new subscription", "While removed 1", "While removed 2"]);
  });

  it("When the delta token has expired, then a resync by receivedDateTime stores the new mail and nothing twice", async () => {
    await h.fake.deliver(buildEmail({ from: "john@acme.com", subject: "Before the loss" }));
    h.startRuntime();
    await caughtUp();
    await waitFor(async () => (await storedIds()).length === 1, "the first message");
    h.fake.mailbox.expireDeltaTokens();
    await deliverQuietly(["After the loss"]);
    await h.t.api.post(`/api/sources/${sourceId}/process`).send({}).expect(202);
    await waitFor(async () => (await storedIds()).length === 2, "the message after the loss");
    const gone = h.fake.requests.filter((r) => r.path.includes("/delta") && r.status === 410);
    expect(gone.length).toBeGreaterThanOrEqual(1);
    const resync = h.fake.requests.filter((r) => r.path.includes("/delta") && r.path.includes("receivedDateTime")).at(-1);
    expect(resync?.status).toBe(200);
    expect(await ticketSubjects()).toEqual(["After the loss", "Before the loss"]);
  });

  it("When a source is authorized while mailgate runs, then its catch-up at authorization is not repeated by the next passes", async () => {
    // A pass every 1.5 s: the added source's catch-ups are done before the next pass sees it.
    h.startRuntime({ superviseEveryMs: 1_500 });
    await caughtUp();
    const added = await h.createGraphSource({ name: "Added while running" });
    await h.authorize(added);
    // The authorization's catch-up, and the one after its subscription was created, both done.
    await waitFor(async () => {
      const [row] = await h.t.ctx.db.select({ lastSyncAt: mailSources.lastSyncAt }).from(mailSources).where(eq(mailSources.id, added));
      const waiting = await h.t.ctx.db.select({ id: syncRequests.id }).from(syncRequests).where(eq(syncRequests.sourceId, added));
      return row?.lastSyncAt != null && waiting.length === 0;
    }, "the added source's first catch-ups");
    const deltaCalls = () => h.fake.requests.filter((r) => r.path.includes("/delta")).length;
    const before = deltaCalls();
    await new Promise((r) => setTimeout(r, 3_200)); // two passes
    expect(deltaCalls()).toBe(before);
  });

  it("When mail arrives while mailgate is down, then it is ticketed after the start", async () => {
    const first = h.startRuntime();
    await caughtUp();
    await first.stop();
    await h.goOffline();
    const { deliveries } = await h.fake.deliver(buildEmail({ from: "john@acme.com", subject: "Sent during the outage" }));
    expect(deliveries.map((d) => d.status)).toEqual([0]);
    await deliverQuietly(["Also during the outage"]);
    await h.goOnline();
    h.startRuntime();
    await waitFor(async () => (await storedIds()).length === 2, "the outage's two messages");
    expect(await ticketSubjects()).toEqual(["Also during the outage", "Sent during the outage"]);
  });

  it("When Graph asks for reauthorization, then the subscription is renewed with a later expiry", async () => {
    h.startRuntime();
    const before = await h.subscriptionOf(sourceId);
    const atGraph = h.fake.subscriptions.all.get(before!.externalId)!;
    atGraph.expirationDateTime = new Date(Date.now() + 30 * 60_000).toISOString();
    const patchesBefore = h.fake.requests.filter((r) => r.method === "PATCH").length;
    expect((await h.fake.lifecycle(before!.externalId, "reauthorizationRequired")).status).toBe(202);
    await waitFor(() => h.fake.requests.filter((r) => r.method === "PATCH").length > patchesBefore, "a PATCH of the subscription");
    await waitFor(async () => (await h.subscriptionOf(sourceId))!.lastRenewedAt!.getTime() > before!.lastRenewedAt!.getTime(), "the renewal to be stored");
    expect(Date.parse(h.fake.subscriptions.all.get(before!.externalId)!.expirationDateTime)).toBeGreaterThan(Date.now() + 7000 * 60_000);
    expect((await h.subscriptionOf(sourceId))!.externalId).toBe(before!.externalId);
  });

  it("When the grant is revoked, then the source needs re-authorization, and after it the mail of the gap is ticketed", async () => {
    h.startRuntime();
    await caughtUp();
    h.fake.identity.revokeGrants();
    await expireStoredAccessToken();
    await h.fake.deliver(buildEmail({ from: "john@acme.com", subject: "Notified while revoked" }));
    await deliverQuietly(["Quiet while revoked"]);
    await waitFor(async () => (await h.t.api.get(`/api/sources/${sourceId}`)).body.status === "needs_reauth", "needs_reauth");
    expect(await storedIds()).toEqual([]);
    const page = await h.authorize(sourceId);
    expect(page.status).toBe(200);
    await waitFor(async () => (await storedIds()).length === 2, "the gap's two messages");
    expect(await ticketSubjects()).toEqual(["Notified while revoked", "Quiet while revoked"]);
    expect((await h.t.api.get(`/api/sources/${sourceId}`)).body.status).toBe("connected");
  });
});

async function expireStoredAccessToken() {
  const [row] = await h.t.ctx.db.select({ secrets: mailSources.secrets }).from(mailSources).where(eq(mailSources.id, sourceId));
  const secrets = h.t.ctx.secrets.openJson<{ tokens: Record<string, unknown> }>(row!.secrets!);
  await h.t.ctx.db
    .update(mailSources)
    .set({ secrets: h.t.ctx.secrets.sealJson({ ...secrets, tokens: { ...secrets.tokens, expiresAt: new Date(0).toISOString() } }) })
    .where(eq(mailSources.id, sourceId));
  forgetAccessToken(h.t.ctx, sourceId);
}
