import { describe, expect, it } from "vitest";
import { messageIdOf, withBccHeader } from "../../../src/sources/graph/send-message.ts";

const mime = (head: string) => Buffer.from(`${head}\r\n\r\nMessage-ID: <in-the-body@x>\r\n`, "latin1");

describe("messageIdOf", () => {
  it("reads the Message-ID of the top-level headers, folded or not, in any case", () => {
    expect(messageIdOf(mime("From: a@x\r\nMessage-ID: <abc@contoso.test>"))).toBe("<abc@contoso.test>");
    expect(messageIdOf(mime("From: a@x\r\nmessage-id:\r\n <folded@contoso.test>"))).toBe("<folded@contoso.test>");
  });

  it("When the headers carry none, then it is null, even if the body has one", () => {
    expect(messageIdOf(mime("From: a@x\r\nSubject: hi"))).toBeNull();
  });
});

describe("withBccHeader", () => {
  it("puts one Bcc header in front, an address per folded line, and leaves the MIME alone without Bcc", () => {
    const raw = mime("From: a@x");
    expect(withBccHeader(raw, ["b@x", "c@x"]).toString("latin1")).toBe(`Bcc: b@x,\r\n c@x\r\n${raw.toString("latin1")}`);
    expect(withBccHeader(raw, [])).toBe(raw);
  });
});
