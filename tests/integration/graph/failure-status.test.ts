// Graph failing to answer the catch-up: the source shows the reason from the first failed
// attempt and logs it once; a failure that ends before SOURCE_FAILED_WEBHOOK_DELAY_SECONDS sends
// no webhook, neither source.failed nor source.recovered.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { and, eq, sql } from "drizzle-orm";
import { events, mailSources } from "../../../src/db/schema.ts";
import { startGraphHarness, waitFor, type GraphHarness } from "./graph-harness.ts";

let h: GraphHarness;
let sourceId: string;

beforeEach(async () => {
  h = await startGraphHarness();
  sourceId = await h.createGraphSource();
  await h.authorize(sourceId);
});
afterEach(async () => h.close());

const source = async () => (await h.t.ctx.db.select().from(mailSources).where(eq(mailSources.id, sourceId)))[0]!;
const eventsOf = async (type: string) =>
  h.t.ctx.db
    .select()
    .from(events)
    .where(and(eq(events.type, type), sql`${events.payload}->'data'->'source'->>'id' = ${sourceId}`));

describe("Graph source failing", () => {
  it("When the first catch-up answers 500, then the source is in error with the reason at once, logged once, and recovers on the retry without a webhook", async () => {
    h.fake.throttle({ pathIncludes: "/delta", status: 500, retryAfterSeconds: 0, times: 1 });
    h.startRuntime();

    await waitFor(async () => (await source()).status === "error", "the failure on the source");
    const shown = await source();
    expect(shown.lastError).toContain("Reading the mailbox through Microsoft Graph failed");
    // The catch-up is retried after 5 s.
    await waitFor(async () => (await source()).status === "connected", "the source to connect again", 20_000);
    const logged = (await h.t.api.get(`/api/errors?sourceId=${sourceId}`).expect(200)).body.items as Array<{ kind: string; message: string }>;
    expect(logged).toEqual([expect.objectContaining({ kind: "connection_failed", message: shown.lastError })]);
    expect(await eventsOf("source.failed")).toHaveLength(0);
    expect(await eventsOf("source.recovered")).toHaveLength(0);
  });
});
