// Change notifications: new mail → notification → fetch ($value) → ticket, with the clientState
// checked, repeats folded, and Graph's throttling (429 + Retry-After) honoured.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { and, eq } from "drizzle-orm";
import { errorLog, inboundMessages, syncRequests, tickets } from "../../../src/db/schema.ts";
import { buildEmail } from "../../helpers/build-email.ts";
import { drainPipeline } from "../../helpers/pipeline.ts";
import { startGraphHarness, waitFor, type GraphHarness } from "./graph-harness.ts";

let h: GraphHarness;
let sourceId: string;
let subscriptionId: string;

beforeAll(async () => {
  h = await startGraphHarness();
  sourceId = await h.createGraphSource();
  await h.authorize(sourceId);
  subscriptionId = (await h.subscriptionOf(sourceId))!.externalId;
  h.startRuntime();
});
afterAll(async () => h.close());

const ticketSubjects = async () =>
  (await h.t.ctx.db.select({ subject: tickets.subject }).from(tickets).where(eq(tickets.sourceId, sourceId))).map((r) => r.subject);

describe("Graph change notifications", () => {
  it("When new mail arrives, then Graph's notification is answered 202 and the mail becomes a ticket", async () => {
    const { message, deliveries } = await h.fake.deliver(buildEmail({ from: "john@acme.com", subject: "Printer on fire" }));
    expect(deliveries.map((d) => d.status)).toEqual([202]);
    expect(deliveries[0]!.ms).toBeLessThan(3000);
    await waitFor(async () => (await h.inboundCount(sourceId)) >= 1, "the message to be stored");
    const [stored] = await h.t.ctx.db.select().from(inboundMessages).where(eq(inboundMessages.sourceId, sourceId));
    expect(stored!.providerMessageId).toBe(message.immutableId);
    await drainPipeline(h.t);
    expect(await ticketSubjects()).toContain("Printer on fire");
    const fetches = h.fake.requests.filter((r) => r.path.endsWith("/$value"));
    expect(fetches.every((r) => r.prefer?.includes('IdType="ImmutableId"'))).toBe(true);
  });

  it("When the same notification arrives twice, then one message is stored and one ticket created", async () => {
    const { message } = await h.fake.deliver(buildEmail({ from: "john@acme.com", subject: "Twice told" }));
    const again = await h.fake.notify(subscriptionId, message.immutableId);
    expect(again.status).toBe(202);
    await waitFor(async () => (await pendingFetches()) === 0 && (await h.inboundCount(sourceId)) >= 2, "both notifications to be handled");
    const rows = await h.t.ctx.db
      .select()
      .from(inboundMessages)
      .where(and(eq(inboundMessages.sourceId, sourceId), eq(inboundMessages.providerMessageId, message.immutableId)));
    expect(rows).toHaveLength(1);
    await drainPipeline(h.t);
    expect((await ticketSubjects()).filter((s) => s === "Twice told")).toHaveLength(1);
  });

  it("When a notification carries the wrong clientState, then it is ignored and logged as a security event", async () => {
    const { message } = await h.fake.deliver(buildEmail({ subject: "Not for you" }), { notify: false });
    const forged = await h.fake.notify(subscriptionId, message.immutableId, { clientState: "guessed-client-state" });
    expect(forged.status).toBe(202);
    const requests = await h.t.ctx.db
      .select()
      .from(syncRequests)
      .where(and(eq(syncRequests.sourceId, sourceId), eq(syncRequests.key, message.immutableId)));
    expect(requests).toHaveLength(0);
    const logged = await h.t.ctx.db.select().from(errorLog).where(eq(errorLog.kind, "security"));
    expect(logged.at(-1)?.message).toContain("clientState did not match");
    expect(logged.at(-1)?.sourceId).toBe(sourceId);
    h.fake.mailbox.remove(message.id);
  });

  it("When the validation token arrives, then it is echoed decoded as text/plain", async () => {
    const token = "Validation: Testing client application reachability for subscription Request-Id: 1234";
    for (const path of ["/push/graph", "/push/graph/lifecycle"]) {
      const res = await h.t.anonymous.post(`${path}?validationToken=${encodeURIComponent(token)}`).set("Content-Type", "text/plain").expect(200);
      expect(res.headers["content-type"]).toMatch(/^text\/plain/);
      expect(res.text).toBe(token);
    }
  });

  it("When the body is not a notification collection, then the endpoint answers 400 and stores nothing", async () => {
    const res = await h.t.anonymous.post("/push/graph").set("Content-Type", "application/json").send("{not json").expect(400);
    expect(res.body.error.code).toBe("invalid_notification");
  });

  it("When Graph throttles the fetch with 429 and Retry-After, then the client waits that long and then fetches", async () => {
    h.fake.throttle({ pathIncludes: "/$value", status: 429, retryAfterSeconds: 1, times: 1 });
    await h.fake.deliver(buildEmail({ from: "john@acme.com", subject: "Slow down" }));
    await waitFor(async () => (await ticketCountAfterDrain()) >= 1, "the throttled message to become a ticket");
    const fetches = h.fake.requests.filter((r) => r.path.endsWith("/$value")).slice(-2);
    expect(fetches.map((r) => r.status)).toEqual([429, 200]);
    expect(fetches[1]!.at - fetches[0]!.at).toBeGreaterThanOrEqual(950);
  });
});

async function pendingFetches(): Promise<number> {
  return (await h.t.ctx.db.select().from(syncRequests).where(eq(syncRequests.sourceId, sourceId))).filter((r) => r.kind === "graph_fetch").length;
}

async function ticketCountAfterDrain(): Promise<number> {
  await drainPipeline(h.t);
  return (await ticketSubjects()).filter((s) => s === "Slow down").length;
}
