// The outbox through a Microsoft 365 source on the fake Microsoft: a source whose grant predates
// Mail.Send says so, its reply waits (not failed) and goes out once the source is authorized again.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sendNext } from "../../../src/outbound/outbox-sender.ts";
import { GRAPH_READ_SCOPES } from "../../../src/sources/graph/graph-endpoints.ts";
import { buildEmail } from "../../helpers/build-email.ts";
import { createSource, deliver } from "../../helpers/pipeline.ts";
import { startGraphHarness, type GraphHarness } from "../graph/graph-harness.ts";

let h: GraphHarness;
beforeAll(async () => {
  h = await startGraphHarness();
});
afterAll(async () => h.close());

describe("a reply through a Microsoft 365 source authorized without Mail.Send", () => {
  it("waits with 're-authorize to allow sending', and is sent after the source is authorized again", async () => {
    const graphId = await h.createGraphSource();
    await h.authorize(graphId, { scope: GRAPH_READ_SCOPES });
    const view = (await h.t.api.get(`/api/sources/${graphId}`).expect(200)).body;
    expect(view.sending).toEqual({ canSend: false, problem: "re-authorize to allow sending" });

    // The harness maps acme.com to a company already.
    const intake = await createSource(h.t);
    const inbound = await deliver(h.t, intake, buildEmail({ from: "john@acme.com", subject: "Laptop" }));
    const { body } = await h.t.api.post(`/api/tickets/${inbound.ticketId}/replies`).send({ text: "On it.", sourceId: graphId }).expect(202);

    expect(await sendNext(h.t.ctx)).toBe(true);
    const waiting = (await h.t.api.get(`/api/outbound-messages/${body.id}`).expect(200)).body;
    expect(waiting).toMatchObject({ status: "waiting_for_authorization", lastError: expect.stringContaining("re-authorize to allow sending") });
    expect(await sendNext(h.t.ctx)).toBe(false);
    expect(h.fake.sent).toHaveLength(0);

    await h.authorize(graphId);
    expect((await h.t.api.get(`/api/sources/${graphId}`).expect(200)).body.sending).toEqual({ canSend: true, problem: null });
    expect(await sendNext(h.t.ctx)).toBe(true);
    const sent = (await h.t.api.get(`/api/outbound-messages/${body.id}`).expect(200)).body;
    expect(sent).toMatchObject({ status: "sent", attemptCount: 2 });
    expect(h.fake.sent).toHaveLength(1);
    expect(h.fake.sent[0]!.recipients).toEqual(["john@acme.com"]);
  });
});
