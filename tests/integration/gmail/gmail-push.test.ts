import { afterEach, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { inboundMessages, mailSources, syncRequests } from "../../../src/db/schema.ts";
import { buildEmail } from "../../helpers/build-email.ts";
import { drainPipeline } from "../../helpers/pipeline.ts";
import { PUSH_SERVICE_ACCOUNT, TOPIC } from "../../fakes/google/fake-google.ts";
import { PUSH_AUDIENCE, startGmailFixture, storedMessages, ticketSubjects, waitFor, type GmailFixture } from "./gmail-fixture.ts";

let f: GmailFixture | undefined;
afterEach(async () => {
  await f?.close();
  f = undefined;
});

describe("Gmail push notifications", () => {
  it("When a new email arrives and Pub/Sub pushes the notification, then it is acknowledged with 204 and becomes a ticket", async () => {
    f = await startGmailFixture();
    f.startRuntime();
    const { message, push } = await f.google.deliver(buildEmail({ from: "jane@acme.com", subject: "Printer on fire" }));
    expect(push?.status).toBe(204);
    const stored = await waitFor("the message to be stored", async () => (await storedMessages(f!)).find((m) => m.providerMessageId === message.id));
    expect(stored.status).toBe("received");
    await drainPipeline(f.t);
    expect(await ticketSubjects(f)).toEqual(["Printer on fire"]);
  });

  it("When mail lands in four mailboxes at once, then each mailbox is synced, each message stored and ticketed once, and each cursor moves to its own mailbox's history", async () => {
    f = await startGmailFixture();
    const fixture = f;
    const others = ["billing@acme-help.test", "sales@acme-help.test", "noc@acme-help.test"];
    const sourceIds = [f.sourceId];
    const boxes = [f.google.mailbox];
    for (const address of others) {
      boxes.push(f.google.addMailbox(address));
      const created = await f.t.api.post("/api/sources").send({
        kind: "gmail",
        name: address,
        address,
        role: "system",
        gmail: { clientId: f.google.client.clientId, clientSecret: f.google.client.clientSecret, redirectUri: f.google.client.redirectUris[0], topicName: TOPIC },
      });
      expect(created.status).toBe(201);
      sourceIds.push(created.body.id as string);
      const authorize = await f.t.api.post(`/api/sources/${created.body.id}/authorize`).send({}).expect(200);
      const redirect = new URL(await f.google.consent(authorize.body.authorizationUrl as string));
      await f.t.anonymous.get(`${redirect.pathname}${redirect.search}`).expect(200);
    }
    await f.startRuntimeSettled();
    const pushes = await Promise.all(boxes.map(({ emailAddress: mailbox }) => fixture.google.deliver(buildEmail({ from: "jane@acme.com", subject: `For ${mailbox}` }), { mailbox })));
    expect(pushes.map((p) => p.push?.status)).toEqual([204, 204, 204, 204]);
    await waitFor("every message to be stored", async () => (await fixture.t.ctx.db.select().from(inboundMessages)).length === 4);
    await waitFor("the sync requests to settle", async () => (await fixture.t.ctx.db.select().from(syncRequests)).length === 0);
    await drainPipeline(f.t);
    const stored = await f.t.ctx.db.select({ sourceId: inboundMessages.sourceId, providerMessageId: inboundMessages.providerMessageId, ticketId: inboundMessages.ticketId }).from(inboundMessages);
    expect(stored.map((m) => m.sourceId).sort()).toEqual([...sourceIds].sort());
    expect(new Set(stored.map((m) => m.ticketId)).size).toBe(4);
    for (const [i, sourceId] of sourceIds.entries()) {
      const [row] = await f.t.ctx.db.select({ cursor: mailSources.cursor }).from(mailSources).where(eq(mailSources.id, sourceId));
      expect(row!.cursor).toEqual({ historyId: String(boxes[i]!.historyId) });
    }
  });

  it("When the same push arrives three times, then one ticket is created", async () => {
    f = await startGmailFixture({ pushToMailgate: false });
    f.startRuntime();
    await f.google.deliver(buildEmail({ from: "jane@acme.com", subject: "Only once" }));
    const request = f.google.pushRequest();
    for (let i = 0; i < 3; i++) {
      await f.t.anonymous.post("/push/gmail").set(request.headers).send(request.body as object).expect(204);
    }
    await waitFor("the message to be stored", async () => (await storedMessages(f!)).length === 1);
    await waitFor("the sync requests to settle", async () => (await f!.t.ctx.db.select().from(syncRequests)).length === 0);
    await drainPipeline(f.t);
    expect(await ticketSubjects(f)).toEqual(["Only once"]);
    expect(await storedMessages(f)).toHaveLength(1);
  });

  it("When a push arrives, then it wakes the Gmail sync alone, not the Graph or IMAP sources", async () => {
    f = await startGmailFixture({ pushToMailgate: false });
    const woken = { gmail_sync: 0, graph_sync: 0, sources: 0 };
    const stops = (Object.keys(woken) as (keyof typeof woken)[]).map((channel) => f!.t.ctx.database.onWake(channel, () => void woken[channel]++));
    await f.google.deliver(buildEmail({ from: "jane@acme.com", subject: "Wake one" }));
    const request = f.google.pushRequest();
    await f.t.anonymous.post("/push/gmail").set(request.headers).send(request.body as object).expect(204);
    stops.forEach((stop) => stop());
    expect(woken).toEqual({ gmail_sync: 1, graph_sync: 0, sources: 0 });
  });

  it("When the push token is forged, expired, for another audience or another service account, then the push gets 401 and nothing is recorded", async () => {
    f = await startGmailFixture({ pushToMailgate: false });
    await f.google.deliver(buildEmail({ from: "jane@acme.com", subject: "Forged" }));
    const sign = f.google.oauth.signPushToken.bind(f.google.oauth);
    const tokens = {
      forged: sign({ audience: PUSH_AUDIENCE, email: PUSH_SERVICE_ACCOUNT, forged: true }),
      expired: sign({ audience: PUSH_AUDIENCE, email: PUSH_SERVICE_ACCOUNT, expiresIn: -3600 }),
      otherAudience: sign({ audience: "https://elsewhere.example.com/push", email: PUSH_SERVICE_ACCOUNT }),
      otherAccount: sign({ audience: PUSH_AUDIENCE, email: "attacker@evil-project.iam.gserviceaccount.com" }),
      unverified: sign({ audience: PUSH_AUDIENCE, email: PUSH_SERVICE_ACCOUNT, emailVerified: false }),
      otherIssuer: sign({ audience: PUSH_AUDIENCE, email: PUSH_SERVICE_ACCOUNT, issuer: "https://evil.example.com" }),
    };
    for (const [name, token] of Object.entries(tokens)) {
      const request = f.google.pushRequest({ token });
      const res = await f.t.anonymous.post("/push/gmail").set(request.headers).send(request.body as object);
      expect(res.status, name).toBe(401);
    }
    const none = f.google.pushRequest();
    await f.t.anonymous.post("/push/gmail").send(none.body as object).expect(401);
    expect(await f.t.ctx.db.select().from(syncRequests)).toHaveLength(0);
    expect(await storedMessages(f)).toHaveLength(0);
  });

  it("When a push names a mailbox no source reads, then it is acknowledged and nothing is recorded", async () => {
    f = await startGmailFixture({ pushToMailgate: false });
    const request = f.google.pushRequest({ emailAddress: "someone-else@acme-help.test" });
    await f.t.anonymous.post("/push/gmail").set(request.headers).send(request.body as object).expect(204);
    expect(await f.t.ctx.db.select().from(syncRequests)).toHaveLength(0);
  });

  it("When the push's historyId arrives as a string, then it is recorded all the same", async () => {
    f = await startGmailFixture({ pushToMailgate: false });
    const request = f.google.pushRequest({ historyId: String(f.google.mailbox.historyId + 5n) });
    await f.t.anonymous.post("/push/gmail").set(request.headers).send(request.body as object).expect(204);
    const [row] = await f.t.ctx.db.select().from(syncRequests);
    expect((row!.payload as { historyId: string }).historyId).toBe(String(f.google.mailbox.historyId + 5n));
  });

  it("When a verified push names a mailbox with a NUL character, then it is acknowledged (not 500, which Pub/Sub would redeliver forever)", async () => {
    f = await startGmailFixture({ pushToMailgate: false });
    const request = f.google.pushRequest({ emailAddress: "support\u0000@acme-help.test" });
    await f.t.anonymous.post("/push/gmail").set(request.headers).send(request.body as object).expect(204);
    expect(await f.t.ctx.db.select().from(syncRequests)).toHaveLength(0);
  });

  it("When a verified push body is over 1 MiB, then the 413 names that fixed limit, not MAX_MESSAGE_BYTES", async () => {
    f = await startGmailFixture({ pushToMailgate: false });
    const request = f.google.pushRequest();
    const body = { ...(request.body as object), padding: "x".repeat(1024 * 1024) };
    const res = await f.t.anonymous.post("/push/gmail").set(request.headers).send(body).expect(413);
    expect(res.body.error).toMatchObject({ code: "payload_too_large", details: { limitBytes: 1024 * 1024 } });
    expect(res.body.error.message).toContain("1048576 bytes (1 MiB); this limit is fixed");
    expect(res.body.error.message).not.toContain("MAX_MESSAGE_BYTES");
    expect(await f.t.ctx.db.select().from(syncRequests)).toHaveLength(0);
  });
});
