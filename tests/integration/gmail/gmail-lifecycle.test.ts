import { afterEach, describe, expect, it } from "vitest";
import { claimGmailSyncs, requestGmailSync, SYNC_LEASE_MS } from "../../../src/sources/gmail/sync-requests.ts";
import { buildEmail } from "../../helpers/build-email.ts";
import { drainPipeline } from "../../helpers/pipeline.ts";
import { sourceRow, startGmailFixture, storedMessages, ticketSubjects, waitFor, type GmailFixture } from "./gmail-fixture.ts";

let f: GmailFixture | undefined;
afterEach(async () => {
  await f?.close();
  f = undefined;
});

describe("Gmail source lifecycle", () => {
  it("When mail arrives while mailgate is down (its pushes fail), then it is ticketed after mailgate starts", async () => {
    f = await startGmailFixture({ pushToMailgate: false });
    f.google.mailbox.add(buildEmail({ from: "jane@acme.com", subject: "Sent during the outage" }));
    f.google.mailbox.add(buildEmail({ from: "bob@acme.com", subject: "Also during the outage" }));
    f.startRuntime();
    await waitFor("both messages", async () => (await storedMessages(f!)).length === 2);
    await drainPipeline(f.t);
    expect(await ticketSubjects(f)).toEqual(["Also during the outage", "Sent during the outage"]);
  });

  it("When Pub/Sub stays silent, then the safety-net sync still brings the mail in", async () => {
    f = await startGmailFixture({ pushToMailgate: false });
    await f.startRuntimeSettled();
    await f.stopRuntime();
    f.google.mailbox.add(buildEmail({ from: "jane@acme.com", subject: "No notification" }));
    f.startRuntime({ superviseEveryMs: 100, safetyNetIntervalMs: 300 });
    await waitFor("the message", async () => (await storedMessages(f!)).length === 1);
  });

  it("When an administrator clicks Process Now, then a sync runs at once", async () => {
    f = await startGmailFixture({ pushToMailgate: false });
    await f.startRuntimeSettled();
    f.google.mailbox.add(buildEmail({ from: "jane@acme.com", subject: "Process me now" }));
    await f.t.api.post(`/api/sources/${f.sourceId}/process`).send({}).expect(202);
    await waitFor("the message", async () => (await storedMessages(f!)).length === 1, 3000);
    await waitFor("the request to be taken", async () => (await sourceRow(f!)).syncRequestedAt === null, 3000);
  });

  it("When the watch is renewed through the subscriptions API, then Gmail is asked again and the new expiry is stored", async () => {
    f = await startGmailFixture({ pushToMailgate: false });
    const listed = await f.t.api.get("/api/subscriptions").expect(200);
    expect(listed.body.items).toEqual([expect.objectContaining({ provider: "gmail", sourceId: f.sourceId, externalId: f.google.mailbox.emailAddress })]);
    const watchCalls = () => f!.google.requests.filter((r) => r.path === "/gmail/v1/users/me/watch").length;
    const before = watchCalls();
    const renewed = await f.t.api.post(`/api/subscriptions/renew?sourceId=${f.sourceId}`).send({}).expect(200);
    expect(renewed.body.results).toEqual([expect.objectContaining({ ok: true, expiresAt: new Date(f.google.watch!.expiration).toISOString() })]);
    expect(watchCalls()).toBe(before + 1);

    f.google.grantedTopics.clear();
    const failed = await f.t.api.post(`/api/subscriptions/renew?sourceId=${f.sourceId}`).send({}).expect(200);
    expect(failed.body.results[0].ok).toBe(false);
    expect(failed.body.results[0].error.message).toContain("gmail-api-push@system.gserviceaccount.com");
    expect((await sourceRow(f)).lastError).toContain("gmail-api-push@system.gserviceaccount.com");
  });

  it("When the source is deleted, then its watch is stopped at once, even with no instance supervising it", async () => {
    f = await startGmailFixture({ pushToMailgate: false });
    await f.startRuntimeSettled({ superviseEveryMs: 100 });
    expect(f.google.watch).not.toBeNull();
    await f.stopRuntime();
    await f.t.api.delete(`/api/sources/${f.sourceId}`).expect(204);
    expect(f.google.stops).toBe(1);
    expect(f.google.watch).toBeNull();
  });

  it("When a supervised source is deleted, then its watch is stopped", async () => {
    f = await startGmailFixture({ pushToMailgate: false });
    await f.startRuntimeSettled({ superviseEveryMs: 100 });
    await f.t.api.delete(`/api/sources/${f.sourceId}`).expect(204);
    await waitFor("users.stop", async () => f!.google.stops >= 1);
    expect(f.google.watch).toBeNull();
  });
});

describe("Gmail sync requests", () => {
  it("When an instance dies in the middle of a sync, then its lease lapses and another worker takes the sync request", async () => {
    f = await startGmailFixture({ pushToMailgate: false });
    const t0 = new Date();
    await requestGmailSync(f.t.ctx.db, { sourceId: f.sourceId, force: true, now: t0 });
    const [dead] = (await claimGmailSyncs(f.t.ctx.db, t0, 1)).claims;
    expect(dead?.sourceId).toBe(f.sourceId);
    expect((await claimGmailSyncs(f.t.ctx.db, new Date(t0.getTime() + SYNC_LEASE_MS - 1000), 1)).claims).toEqual([]);
    const [next] = (await claimGmailSyncs(f.t.ctx.db, new Date(t0.getTime() + SYNC_LEASE_MS + 1000), 1)).claims;
    expect(next).toMatchObject({ id: dead!.id, attempts: 2 });
  });
});
