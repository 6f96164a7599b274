import { afterEach, describe, expect, it } from "vitest";
import { syncRequests } from "../../../src/db/schema.ts";
import { historyIdOf } from "../../../src/sources/gmail/sync-decision.ts";
import { buildEmail } from "../../helpers/build-email.ts";
import { drainPipeline } from "../../helpers/pipeline.ts";
import { authorizeThroughGoogle, sourceRow, startGmailFixture, storedMessages, ticketSubjects, waitFor, type GmailFixture } from "./gmail-fixture.ts";

let f: GmailFixture | undefined;
afterEach(async () => {
  await f?.close();
  f = undefined;
});

const settled = (fx: GmailFixture) => waitFor("the sync requests to settle", async () => (await fx.t.ctx.db.select().from(syncRequests)).length === 0);

describe("Gmail history sync", () => {
  it("When history spans several pages, then every page is read from the stored historyId before the cursor moves, and drafts and sent mail are skipped", async () => {
    f = await startGmailFixture({ historyPageSize: 2, pushToMailgate: false });
    for (let i = 1; i <= 5; i++) f.google.mailbox.add(buildEmail({ from: "jane@acme.com", subject: `Paged ${i}` }));
    f.google.mailbox.add(buildEmail({ from: "support@acme-help.test", subject: "Our reply" }), { labelIds: ["SENT", "INBOX"] });
    f.google.mailbox.add(buildEmail({ from: "support@acme-help.test", subject: "A draft" }), { labelIds: ["DRAFT", "INBOX"] });
    const startCursor = historyIdOf((await sourceRow(f)).cursor)!;
    f.startRuntime({ superviseEveryMs: 600_000 });
    const push = f.google.pushRequest();
    await f.t.anonymous.post("/push/gmail").set(push.headers).send(push.body as object).expect(204);
    await settled(f);
    const historyCalls = f.google.requests
      .filter((r) => r.path.startsWith("/gmail/v1/users/me/history"))
      .map((r) => new URL(r.path, f!.google.url).searchParams);
    // The first sync: four pages, all from the stored cursor; any later sync (start-up and push
    // folded together may run twice) starts from where the first one left the cursor.
    expect(historyCalls.slice(0, 4).map((q) => [q.get("startHistoryId"), q.get("pageToken")])).toEqual([
      [startCursor, null],
      [startCursor, "2"],
      [startCursor, "4"],
      [startCursor, "6"],
    ]);
    const endCursor = String(f.google.mailbox.historyId);
    for (const q of historyCalls.slice(4)) expect(q.get("startHistoryId")).toBe(endCursor);
    expect(historyIdOf((await sourceRow(f)).cursor)).toBe(endCursor);
    await drainPipeline(f.t);
    expect(await ticketSubjects(f)).toEqual(["Paged 1", "Paged 2", "Paged 3", "Paged 4", "Paged 5"]);
  });

  it("When the stored historyId is too old (history 404), then a bounded resync stores the missed mail once and takes a new baseline", async () => {
    f = await startGmailFixture({ pushToMailgate: false });
    f.startRuntime();
    const first = await f.google.deliver(buildEmail({ from: "jane@acme.com", subject: "Seen before the gap" }), { notify: false });
    const push = () => f!.google.pushRequest();
    let p = push();
    await f.t.anonymous.post("/push/gmail").set(p.headers).send(p.body as object).expect(204);
    await waitFor("the first message", async () => (await storedMessages(f!)).some((m) => m.providerMessageId === first.message.id));
    await settled(f);

    // Mailgate misses notifications for long enough that Gmail drops the history it would need.
    f.google.mailbox.add(buildEmail({ from: "jane@acme.com", subject: "Missed 1" }));
    f.google.mailbox.add(buildEmail({ from: "jane@acme.com", subject: "Missed 2" }));
    f.google.mailbox.forgetHistory();
    f.google.mailbox.add(buildEmail({ from: "jane@acme.com", subject: "After the gap" }));
    // An old message from before mailgate was connected stays out of the resync window.
    f.google.mailbox.add(buildEmail({ from: "jane@acme.com", subject: "Ancient" }), { internalDate: new Date(Date.now() - 30 * 86_400_000) });

    p = push();
    await f.t.anonymous.post("/push/gmail").set(p.headers).send(p.body as object).expect(204);
    await settled(f);
    expect(f.google.requests.some((r) => r.path.startsWith("/gmail/v1/users/me/history") && r.status === 404)).toBe(true);
    expect(f.google.requests.some((r) => r.path.startsWith("/gmail/v1/users/me/messages?") && r.path.includes("after"))).toBe(true);
    expect(historyIdOf((await sourceRow(f)).cursor)).toBe(String(f.google.mailbox.historyId));

    await drainPipeline(f.t);
    expect(await ticketSubjects(f)).toEqual(["After the gap", "Missed 1", "Missed 2", "Seen before the gap"]);
    expect(await storedMessages(f)).toHaveLength(4);

    // And the new baseline works: the next mail arrives through history again.
    const next = await f.google.deliver(buildEmail({ from: "jane@acme.com", subject: "Back to normal" }), { notify: false });
    p = push();
    await f.t.anonymous.post("/push/gmail").set(p.headers).send(p.body as object).expect(204);
    await waitFor("the next message", async () => (await storedMessages(f!)).some((m) => m.providerMessageId === next.message.id));
  });

  it("When history 404s within the first hour after connecting, then the resync does not ticket mail that was already in the inbox", async () => {
    f = await startGmailFixture({ pushToMailgate: false, authorize: false });
    // In the inbox before the source is connected: history, never tickets.
    f.google.mailbox.add(buildEmail({ from: "jane@acme.com", subject: "Already there 1" }), { internalDate: new Date(Date.now() - 20 * 60_000) });
    f.google.mailbox.add(buildEmail({ from: "jane@acme.com", subject: "Already there 2" }), { internalDate: new Date(Date.now() - 5_000) });
    expect((await authorizeThroughGoogle(f)).status).toBe(200);
    f.google.mailbox.add(buildEmail({ from: "jane@acme.com", subject: "After connecting" }));
    f.google.mailbox.forgetHistory();
    f.google.mailbox.add(buildEmail({ from: "jane@acme.com", subject: "After the gap" }));

    await f.startRuntimeSettled();
    expect(f.google.requests.some((r) => r.path.startsWith("/gmail/v1/users/me/history") && r.status === 404)).toBe(true);
    await drainPipeline(f.t);
    expect(await ticketSubjects(f)).toEqual(["After connecting", "After the gap"]);
  });

  it("When history 404s at re-authorization, then the mail of the needs_reauth gap is ticketed and mail from before the first connection is not", async () => {
    f = await startGmailFixture({ pushToMailgate: false, authorize: false });
    f.google.mailbox.add(buildEmail({ from: "jane@acme.com", subject: "Already there" }), { internalDate: new Date(Date.now() - 5_000) });
    expect((await authorizeThroughGoogle(f)).status).toBe(200);
    await f.startRuntimeSettled();
    f.google.oauth.revokeAll();
    f.google.mailbox.add(buildEmail({ from: "jane@acme.com", subject: "While revoked" }));
    const p = f.google.pushRequest();
    await f.t.anonymous.post("/push/gmail").set(p.headers).send(p.body as object).expect(204);
    await waitFor("needs_reauth", async () => (await sourceRow(f!)).status === "needs_reauth");
    f.google.mailbox.forgetHistory();

    expect((await authorizeThroughGoogle(f)).status).toBe(200);
    await waitFor("the gap's message", async () => (await storedMessages(f!)).length >= 1);
    await settled(f);
    expect(f.google.requests.some((r) => r.path.startsWith("/gmail/v1/users/me/history") && r.status === 404)).toBe(true);
    await drainPipeline(f.t);
    expect(await ticketSubjects(f)).toEqual(["While revoked"]);
  });

  it("When Gmail rate limits the sync (429), then it backs off and completes without losing the message", async () => {
    f = await startGmailFixture({ pushToMailgate: false });
    await f.startRuntimeSettled();
    const mark = f.google.requests.length;
    const { message } = await f.google.deliver(buildEmail({ from: "jane@acme.com", subject: "Slow down" }), { notify: false });
    f.google.fail({ pathIncludes: "/history", status: 429, reason: "rateLimitExceeded", message: "User-rate limit exceeded", times: 1, retryAfterSeconds: 1 });
    const p = f.google.pushRequest();
    await f.t.anonymous.post("/push/gmail").set(p.headers).send(p.body as object).expect(204);
    await waitFor("the message after the backoff", async () => (await storedMessages(f!)).some((m) => m.providerMessageId === message.id));
    const row = await sourceRow(f);
    expect(row.status).toBe("connected");
    const history = f.google.requests.slice(mark).filter((r) => r.path.startsWith("/gmail/v1/users/me/history"));
    expect(history.map((r) => r.status)).toEqual([429, 200]);
  });

  it("When post-processing is configured, then each stored message gets the label (created once) and loses UNREAD", async () => {
    f = await startGmailFixture({ pushToMailgate: false, postProcess: { addLabel: "Ticketed", markRead: true } });
    f.startRuntime();
    const a = f.google.mailbox.add(buildEmail({ from: "jane@acme.com", subject: "Label me" }));
    const b = f.google.mailbox.add(buildEmail({ from: "jane@acme.com", subject: "Label me too" }));
    const p = f.google.pushRequest();
    await f.t.anonymous.post("/push/gmail").set(p.headers).send(p.body as object).expect(204);
    await settled(f);
    for (const m of [a, b]) {
      expect(f.google.mailbox.labelNamesOf(m.id)).toContain("Ticketed");
      expect(f.google.mailbox.labelNamesOf(m.id)).not.toContain("UNREAD");
    }
    expect(f.google.mailbox.labels.filter((l) => l.name === "Ticketed")).toHaveLength(1);
  });

  it("When a source is authorized while mailgate runs, then the next supervisor pass does not sync it again", async () => {
    f = await startGmailFixture({ authorize: false, pushToMailgate: false });
    // A pass every 1.5 s: the authorization's sync is done before the next pass sees the source.
    f.startRuntime({ superviseEveryMs: 1_500 });
    await new Promise((r) => setTimeout(r, 100)); // the first pass, with the source not yet authorized
    await authorizeThroughGoogle(f);
    await waitFor("the authorization's sync", async () => (await sourceRow(f!)).lastSyncAt !== null && (await f!.t.ctx.db.select().from(syncRequests)).length === 0);
    const gmailCalls = () => f!.google.requests.filter((r) => r.path.startsWith("/gmail/v1/users/me/history") || r.path.startsWith("/gmail/v1/users/me/profile")).length;
    const before = gmailCalls();
    await new Promise((r) => setTimeout(r, 3_200)); // two passes
    expect(gmailCalls()).toBe(before);
  });
});
