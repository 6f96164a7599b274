// Sending through a Microsoft 365 source (#25, not wired into the outbox yet): sendMail in its MIME
// form on the fake Microsoft, through the real Graph client with the source's stored authorization.
import { createServer } from "node:net";
import { simpleParser } from "mailparser";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { findSource } from "../../../src/db/sources.ts";
import { buildOutboundMime, type OutboundAddress } from "../../../src/outbound/build-message.ts";
import { GRAPH_READ_SCOPES } from "../../../src/sources/graph/graph-endpoints.ts";
import { openGraphSession } from "../../../src/sources/graph/graph-session.ts";
import { graphSourceCanSend } from "../../../src/sources/graph/graph-tokens.ts";
import { REAUTHORIZE_TO_SEND, sendViaGraph } from "../../../src/sources/graph/send-message.ts";
import { startGraphHarness, type GraphHarness } from "./graph-harness.ts";

/** The loop header value mailgate would write (outbound/loop-token.ts). */
const LOOP_TOKEN = "test-loop-token";

let h: GraphHarness;
beforeAll(async () => {
  h = await startGraphHarness();
});
afterAll(async () => h.close());
beforeEach(() => {
  h.fake.sent.length = 0;
});

/** A Microsoft 365 source signed in with `scope` (today's scopes unless told). */
const authorizedSource = async (scope?: string) => {
  const id = await h.createGraphSource();
  await h.authorize(id, scope === undefined ? {} : { scope });
  return id;
};

const reply = (o: { to?: OutboundAddress[]; cc?: OutboundAddress[]; bcc?: OutboundAddress[]; from?: string } = {}) =>
  buildOutboundMime({
    messageId: "<mailgate.0a0b@contoso.test>",
    from: { address: o.from ?? h.fake.user.mail, name: "Support" },
    to: o.to ?? [{ address: "john@acme.com", name: "John" }],
    cc: o.cc ?? [{ address: "jane@acme.com" }],
    bcc: o.bcc ?? [],
    subject: "Re: [Ticket #12] Printer",
    text: "Fixed.",
    thread: ["printer-1@acme.com"],
    automatic: false,
    date: new Date("2026-12-06T10:00:00Z"),
  }, LOOP_TOKEN);

const sendMailRequests = () => h.fake.requests.filter((r) => r.method === "POST" && r.path === "/v1.0/me/sendMail");

describe("sending through Microsoft 365", () => {
  it("When a reply is sent, then Graph receives the MIME as built and the outcome names its Message-ID", async () => {
    const id = await authorizedSource();
    const raw = await reply();
    const before = sendMailRequests().length;
    const outcome = await sendViaGraph(openGraphSession(h.t.ctx, id), raw);
    expect(outcome).toEqual({ kind: "sent", providerId: "<mailgate.0a0b@contoso.test>", threadId: null });
    expect(sendMailRequests().slice(before).map((r) => r.status)).toEqual([202]);
    expect(h.fake.sent[0]!.raw.equals(raw)).toBe(true);
    const parsed = await simpleParser(h.fake.sent[0]!.raw);
    expect(parsed.messageId).toBe("<mailgate.0a0b@contoso.test>");
    expect(parsed.inReplyTo).toBe("<printer-1@acme.com>");
    expect(parsed.references).toBe("<printer-1@acme.com>");
    expect(parsed.subject).toBe("Re: [Ticket #12] Printer");
    expect(parsed.headers.get("x-mailgate-loop")).toBe(LOOP_TOKEN);
    expect(h.fake.sent[0]!.recipients).toEqual(["john@acme.com", "jane@acme.com"]);
  });

  it("When a reply has Bcc recipients, then Graph gets them in a Bcc header, the only place it takes recipients from", async () => {
    const id = await authorizedSource();
    const raw = await reply({ bcc: [{ address: "boss@acme.com" }] });
    expect(raw.toString("latin1")).not.toMatch(/^bcc:/im);
    const outcome = await sendViaGraph(openGraphSession(h.t.ctx, id), raw, ["boss@acme.com", "audit@acme.com"]);
    expect(outcome.kind).toBe("sent");
    expect(h.fake.sent[0]!.bcc).toEqual(["boss@acme.com", "audit@acme.com"]);
    expect(h.fake.sent[0]!.recipients).toEqual(["john@acme.com", "jane@acme.com", "boss@acme.com", "audit@acme.com"]);
    expect((await simpleParser(h.fake.sent[0]!.raw)).messageId).toBe("<mailgate.0a0b@contoso.test>");
  });

  it("When a Bcc address could add a header or a recipient, then nothing is sent and the message fails", async () => {
    const id = await authorizedSource();
    const outcome = await sendViaGraph(openGraphSession(h.t.ctx, id), await reply(), ["boss@acme.com\r\nX-Evil: 1"]);
    expect(outcome).toMatchObject({ kind: "permanent", error: expect.stringContaining("not a plain email address") });
    expect(h.fake.sent).toHaveLength(0);
  });
});

describe("a source authorized before mailgate asked for Mail.Send", () => {
  it("When it sends, then Graph refuses and the message waits with 're-authorize to allow sending'; after re-authorization it is sent", async () => {
    const id = await authorizedSource(GRAPH_READ_SCOPES);
    const stored = async () => (await findSource(h.t.ctx.db, id))!.secrets;
    expect(graphSourceCanSend(h.t.ctx, await stored())).toBe(false);
    const waiting = await sendViaGraph(openGraphSession(h.t.ctx, id), await reply());
    expect(waiting).toEqual({ kind: "waiting_for_authorization", error: expect.stringContaining(REAUTHORIZE_TO_SEND) });
    expect(waiting.kind === "waiting_for_authorization" && waiting.error).toContain("ErrorAccessDenied");
    expect(h.fake.sent).toHaveLength(0);

    await h.authorize(id);
    expect(graphSourceCanSend(h.t.ctx, await stored())).toBe(true);
    const sent = await sendViaGraph(openGraphSession(h.t.ctx, id), await reply());
    expect(sent).toMatchObject({ kind: "sent" });
    expect(h.fake.sent).toHaveLength(1);
  });
});

describe("what Graph's refusals mean for the outbox", () => {
  it("When Graph throttles with Retry-After, then it is transient with that wait, after one attempt (the outbox retries, not the client)", async () => {
    const id = await authorizedSource();
    h.fake.fail({ pathIncludes: "/me/sendMail", status: 429, code: "ApplicationThrottled", message: "Application is over its MailboxConcurrency limit.", retryAfterSeconds: 7, times: 1 });
    const before = sendMailRequests().length;
    const outcome = await sendViaGraph(openGraphSession(h.t.ctx, id), await reply());
    expect(outcome).toEqual({ kind: "transient", error: expect.stringContaining("MailboxConcurrency"), retryAfterMs: 7000 });
    expect(sendMailRequests().length - before).toBe(1);
    expect(h.fake.sent).toHaveLength(0);
  });

  it("When Graph is unavailable or fails (503 without Retry-After, 500), then it is transient with no wait of its own", async () => {
    const id = await authorizedSource();
    h.fake.fail({ pathIncludes: "/me/sendMail", status: 503, code: "ServiceUnavailable", message: "Service Unavailable", times: 1 });
    expect(await sendViaGraph(openGraphSession(h.t.ctx, id), await reply())).toEqual({ kind: "transient", error: expect.stringContaining("Service Unavailable") });
    h.fake.throttle({ pathIncludes: "/me/sendMail", status: 500, retryAfterSeconds: 0, times: 1 });
    expect(await sendViaGraph(openGraphSession(h.t.ctx, id), await reply())).toEqual({ kind: "transient", error: expect.stringContaining("internal server error") });
    expect(h.fake.sent).toHaveLength(0);
  });

  it("When Graph cannot be reached, then it is transient", async () => {
    const id = await authorizedSource();
    const port = await closedPort();
    const ctx = { ...h.t.ctx, config: { ...h.t.ctx.config, microsoft: { ...h.t.ctx.config.microsoft, graphApiUrl: `https://127.0.0.1:${port}/v1.0` } } };
    expect(await sendViaGraph(openGraphSession(ctx, id), await reply())).toMatchObject({ kind: "transient" });
  });

  it("When Graph refuses the recipients (400 ErrorInvalidRecipients), then it is permanent in Graph's own words", async () => {
    const id = await authorizedSource();
    expect(await sendViaGraph(openGraphSession(h.t.ctx, id), await reply({ to: [], cc: [] }))).toEqual({
      kind: "permanent",
      error: "Microsoft 365 refused the message (ErrorInvalidRecipients): At least one recipient is not valid., A message can't be sent because it contains no recipients.",
    });
    h.fake.fail({ pathIncludes: "/me/sendMail", status: 400, code: "ErrorInvalidRecipients", message: "At least one recipient is not valid., Recipient 'john@acme.com' is not resolved.", times: 1 });
    expect(await sendViaGraph(openGraphSession(h.t.ctx, id), await reply())).toEqual({
      kind: "permanent",
      error: expect.stringContaining("Recipient 'john@acme.com' is not resolved."),
    });
    expect(h.fake.sent).toHaveLength(0);
  });

  it("When the From is not the mailbox (403 ErrorSendAsDenied), then it fails: signing in again would not change it", async () => {
    const id = await authorizedSource();
    const outcome = await sendViaGraph(openGraphSession(h.t.ctx, id), await reply({ from: "sales@contoso.test" }));
    expect(outcome).toMatchObject({ kind: "permanent", error: expect.stringContaining("ErrorSendAsDenied") });
  });

  it("When Microsoft refuses the stored sign-in (revoked grant, or a token Graph rejects), then the message waits for re-authorization", async () => {
    const revoked = await authorizedSource();
    h.fake.identity.revokeGrants();
    await h.expireStoredAccessToken(revoked);
    expect(await sendViaGraph(openGraphSession(h.t.ctx, revoked), await reply())).toEqual({
      kind: "waiting_for_authorization",
      error: expect.stringContaining(`invalid_grant`),
    });
    expect((await findSource(h.t.ctx.db, revoked))!.status).toBe("needs_reauth");

    const rejected = await authorizedSource();
    h.fake.identity.expireAccessTokens();
    const outcome = await sendViaGraph(openGraphSession(h.t.ctx, rejected), await reply());
    expect(outcome).toEqual({ kind: "waiting_for_authorization", error: expect.stringContaining(REAUTHORIZE_TO_SEND) });
    expect(h.fake.sent).toHaveLength(0);
  });
});

describe("the fake's sendMail", () => {
  it("When the body is not base64 MIME as text/plain, then it refuses in Graph's error shape", async () => {
    const id = await authorizedSource();
    const session = openGraphSession(h.t.ctx, id);
    const post = (contentType: string, body: string) =>
      session.client.api("/me/sendMail").header("Content-Type", contentType).post(body).then(
        () => null,
        (err: { statusCode?: number; code?: string }) => ({ status: err.statusCode, code: err.code }),
      );
    expect(await post("text/plain", (await reply()).toString("latin1"))).toEqual({ status: 400, code: "ErrorMimeContentInvalidBase64String" });
    expect(await post("application/octet-stream", (await reply()).toString("base64"))).toEqual({ status: 415, code: "UnsupportedMediaType" });
    expect(h.fake.sent).toHaveLength(0);
  });
});

function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
