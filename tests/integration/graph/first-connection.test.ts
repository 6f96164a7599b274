// The first authorization is where mailgate starts: mail already in the Inbox then is history,
// neither the first catch-up nor a later resync (a lost delta state) turns it into tickets.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { inboundMessages, mailSources, tickets } from "../../../src/db/schema.ts";
import { buildEmail } from "../../helpers/build-email.ts";
import { drainPipeline } from "../../helpers/pipeline.ts";
import { startGraphHarness, waitFor, type GraphHarness } from "./graph-harness.ts";

let h: GraphHarness;
let sourceId: string;

beforeEach(async () => {
  h = await startGraphHarness();
  sourceId = await h.createGraphSource();
});
afterEach(async () => h.close());

const storedCount = async () => (await h.t.ctx.db.select({ id: inboundMessages.id }).from(inboundMessages).where(eq(inboundMessages.sourceId, sourceId))).length;

const ticketSubjects = async () => {
  await drainPipeline(h.t);
  return (await h.t.ctx.db.select({ subject: tickets.subject }).from(tickets).where(eq(tickets.sourceId, sourceId)))
    .map((r) => r.subject)
    .sort();
};

const caughtUp = () =>
  waitFor(async () => {
    const [row] = await h.t.ctx.db.select({ cursor: mailSources.cursor }).from(mailSources).where(eq(mailSources.id, sourceId));
    return typeof (row?.cursor as { deltaLink?: unknown } | null)?.deltaLink === "string";
  }, "a deltaLink in the cursor");

describe("the first authorization", () => {
  it("When the Inbox already holds mail at the first authorization, then neither the first catch-up nor a resync after a lost delta state tickets it", async () => {
    await h.fake.deliver(buildEmail({ from: "john@acme.com", subject: "Already there 1" }), { notify: false, receivedAt: new Date(Date.now() - 10 * 60_000) });
    await h.fake.deliver(buildEmail({ from: "john@acme.com", subject: "Already there 2" }), { notify: false, receivedAt: new Date(Date.now() - 5_000) });
    expect((await h.authorize(sourceId)).status).toBe(200);
    h.startRuntime();
    await caughtUp();

    // Within the resync margin of the connection, Graph forgets the delta state.
    await h.fake.deliver(buildEmail({ from: "john@acme.com", subject: "After connecting" }), { notify: false });
    h.fake.mailbox.expireDeltaTokens();
    await h.t.api.post(`/api/sources/${sourceId}/process`).send({}).expect(202);
    await waitFor(() => h.fake.requests.some((r) => r.path.includes("/delta") && r.status === 410), "the lost delta state");
    await waitFor(async () => (await storedCount()) >= 1, "the message after connecting");
    expect(await ticketSubjects()).toEqual(["After connecting"]);
  });
});
