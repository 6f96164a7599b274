// The outgoing MIME, read back with mailparser (what a customer's mail client and our own intake
// see) and with our own parser and classifier.
import { simpleParser } from "mailparser";
import { describe, expect, it } from "vitest";
import { buildOutboundMime, type OutboundMessage } from "../../../src/outbound/build-message.ts";
import { classify } from "../../../src/pipeline/classify.ts";
import { parseEmail } from "../../../src/pipeline/parse-email.ts";

/** The loop header value mailgate would write (outbound/loop-token.ts). */
const LOOP_TOKEN = "test-loop-token";

const base: OutboundMessage = {
  messageId: "<mailgate.0123456789abcdef@support.msp.example>",
  from: { address: "support@msp.example", name: "MSP Support" },
  to: [{ address: "john@acme.com", name: "John Doe" }],
  subject: "Re: [Ticket #1234] Printer is broken",
  text: "We are on it.",
  thread: ["root@acme.com", "mailgate.aaaa@support.msp.example", "reply-2@acme.com"],
  automatic: false,
  date: new Date("2026-12-06T10:00:00Z"),
};

describe("buildOutboundMime", () => {
  it("When a reply is built, then it carries its Message-ID, the addresses, the subject and the thread headers", async () => {
    const parsed = await simpleParser(await buildOutboundMime(base, LOOP_TOKEN));
    expect(parsed.messageId).toBe(base.messageId);
    expect(parsed.from?.value).toEqual([{ address: "support@msp.example", name: "MSP Support" }]);
    expect(parsed.to && !Array.isArray(parsed.to) ? parsed.to.value : null).toEqual([{ address: "john@acme.com", name: "John Doe" }]);
    expect(parsed.subject).toBe("Re: [Ticket #1234] Printer is broken");
    expect(parsed.text?.trim()).toBe("We are on it.");
    expect(parsed.inReplyTo).toBe("<reply-2@acme.com>");
    expect(parsed.references).toEqual(["<root@acme.com>", "<mailgate.aaaa@support.msp.example>", "<reply-2@acme.com>"]);
    expect(parsed.date?.toISOString()).toBe("2026-12-06T10:00:00.000Z");
  });

  it("When a tech answers, then the mail is not marked automatic but is marked as mailgate's own", async () => {
    const raw = await buildOutboundMime(base, LOOP_TOKEN);
    const parsed = await simpleParser(raw);
    expect(parsed.headers.has("auto-submitted")).toBe(false);
    expect(parsed.headers.has("x-auto-response-suppress")).toBe(false);
    expect(classify(await parseEmail(raw), { ownMessageIdDomain: "mailgate.invalid", ownLoopToken: LOOP_TOKEN }).kind).toBe("own_loop");
  });

  it("When an acknowledgement is built, then it says it is an automatic answer (RFC 3834), so auto-responders do not answer it", async () => {
    const raw = await buildOutboundMime({ ...base, automatic: true }, LOOP_TOKEN);
    const parsed = await simpleParser(raw);
    expect(parsed.headers.get("auto-submitted")).toBe("auto-replied");
    expect(parsed.headers.get("x-auto-response-suppress")).toBe("All");
  });

  it("When the message has html, cc, bcc and attachments, then they arrive, and bcc is not in the headers", async () => {
    const pdf = Buffer.from("%PDF-1.4 not really");
    const raw = await buildOutboundMime({
      ...base,
      html: "<p>We are <b>on it</b>.</p>",
      cc: [{ address: "boss@acme.com" }],
      bcc: [{ address: "audit@msp.example" }],
      attachments: [{ filename: "invoice ü.pdf", contentType: "application/pdf", content: pdf }],
    }, LOOP_TOKEN);
    const parsed = await simpleParser(raw);
    expect(parsed.html).toContain("<b>on it</b>");
    expect(parsed.cc && !Array.isArray(parsed.cc) ? parsed.cc.value.map((a) => a.address) : null).toEqual(["boss@acme.com"]);
    expect(raw.toString("latin1")).not.toMatch(/^bcc:/im);
    expect(raw.toString("latin1")).not.toContain("audit@msp.example");
    expect(parsed.attachments).toHaveLength(1);
    expect(parsed.attachments[0]!.filename).toBe("invoice ü.pdf");
    expect(parsed.attachments[0]!.contentType).toBe("application/pdf");
    expect(parsed.attachments[0]!.content.equals(pdf)).toBe(true);
  });

  it("When the ticket has no earlier message with an id, then there is no In-Reply-To and no References", async () => {
    const parsed = await simpleParser(await buildOutboundMime({ ...base, thread: [] }, LOOP_TOKEN));
    expect(parsed.inReplyTo).toBeUndefined();
    expect(parsed.references).toBeUndefined();
  });

  it("When a subject carries a line break, then it stays one header and injects nothing", async () => {
    const raw = await buildOutboundMime({ ...base, subject: "Hello\r\nBcc: victim@evil.example" }, LOOP_TOKEN);
    const parsed = await simpleParser(raw);
    expect(parsed.headers.has("bcc")).toBe(false);
    expect(raw.toString("latin1")).not.toMatch(/^Bcc: victim/im);
  });
});
