// Sending through a Gmail source (#25, not wired into the outbox yet): users.messages.send on the
// fake Google, through the real googleapis client with the source's stored authorization.
import { simpleParser } from "mailparser";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { findSource } from "../../../src/db/sources.ts";
import { buildOutboundMime } from "../../../src/outbound/build-message.ts";
import { openGmailSession } from "../../../src/sources/gmail/gmail-session.ts";
import { sendViaGmail } from "../../../src/sources/gmail/send-message.ts";
import { buildEmail } from "../../helpers/build-email.ts";
import { startGmailFixture, type GmailFixture } from "./gmail-fixture.ts";

/** The loop header value mailgate would write (outbound/loop-token.ts). */
const LOOP_TOKEN = "test-loop-token";

let f: GmailFixture;
beforeEach(async () => {
  f = await startGmailFixture();
});
afterEach(async () => f.close());

const session = async () => openGmailSession(f.t.ctx, (await findSource(f.t.ctx.db, f.sourceId))!);

const reply = (to = "john@acme.com") =>
  buildOutboundMime({
    messageId: "<mailgate.0a0b@example.com>",
    from: { address: f.google.mailbox.emailAddress, name: "Support" },
    to: to ? [{ address: to }] : [],
    subject: "Re: [Ticket #12] Printer",
    text: "Fixed.",
    thread: ["printer-1@acme.com"],
    automatic: false,
    date: new Date("2026-12-06T10:00:00Z"),
  }, LOOP_TOKEN);

describe("sending through Gmail", () => {
  it("When a reply is sent in the ticket's thread, then Gmail receives the MIME as built, files it there and answers its id", async () => {
    const original = f.google.mailbox.add(buildEmail({ from: "john@acme.com", subject: "Printer", messageId: "<printer-1@acme.com>" }));
    const outcome = await sendViaGmail(await session(), await reply(), original.threadId);
    expect(outcome).toEqual({ kind: "sent", providerId: f.google.sent[0]!.id, threadId: original.threadId });
    const parsed = await simpleParser(f.google.sent[0]!.raw);
    expect(parsed.messageId).toBe("<mailgate.0a0b@example.com>");
    expect(parsed.inReplyTo).toBe("<printer-1@acme.com>");
    expect(f.google.sent[0]!.labelIds).toEqual(["SENT"]);
  });

  it("When the thread is not known, then the reply is sent in a thread of its own", async () => {
    const outcome = await sendViaGmail(await session(), await reply(), null);
    expect(outcome).toMatchObject({ kind: "sent", threadId: f.google.sent[0]!.threadId });
  });

  it("When Google refuses the stored authorization, then the message waits for re-authorization and nothing is sent", async () => {
    f.google.oauth.revokeAll();
    const outcome = await sendViaGmail(await session(), await reply(), null);
    expect(outcome).toEqual({ kind: "waiting_for_authorization", error: expect.stringContaining("Authorize") });
    expect(f.google.sent).toHaveLength(0);
  });

  it("When Gmail is unavailable (5xx), then it is a transient failure; when it refuses the message (400), a permanent one with its words", async () => {
    f.google.fail({ pathIncludes: "/messages/send", status: 503, reason: "backendError", message: "Backend Error", times: 5 });
    expect((await sendViaGmail(await session(), await reply(), null)).kind).toBe("transient");
    f.google.clearFailures();
    expect(await sendViaGmail(await session(), await reply(""), null)).toEqual({ kind: "permanent", error: "Invalid To header" });
    expect(f.google.sent).toHaveLength(0);
  });
});
