// Hostile input: each case ends in a ParsedEmail or an Error that says what is wrong; never a
// crash, a hang or a blown stack. Times are printed, not asserted (bench/ is for figures).
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { parseEmail, type ParsedEmail } from "../../../src/pipeline/parse-email.ts";
import { buildEmail } from "../../helpers/build-email.ts";

type Outcome = { kind: "parsed"; email: ParsedEmail; ms: number } | { kind: "refused"; message: string; ms: number };

async function attempt(name: string, raw: Buffer): Promise<Outcome> {
  const started = performance.now();
  try {
    const email = await parseEmail(raw);
    const ms = Math.round(performance.now() - started);
    console.info(`parse ${name}: parsed in ${ms} ms`);
    return { kind: "parsed", email, ms };
  } catch (err) {
    const ms = Math.round(performance.now() - started);
    expect(err).toBeInstanceOf(Error);
    console.info(`parse ${name}: refused in ${ms} ms: ${(err as Error).message}`);
    return { kind: "refused", message: (err as Error).message, ms };
  }
}

function nestedMultiparts(depth: number): Buffer {
  let body = "Content-Type: text/plain\r\n\r\ninnermost\r\n";
  for (let i = 0; i < depth; i++) body = `Content-Type: multipart/mixed; boundary="b${i}"\r\n\r\n--b${i}\r\n${body}--b${i}--\r\n`;
  return Buffer.from(`From: john@acme.com\r\nSubject: nested\r\nMessage-ID: <nested-${depth}@acme.com>\r\nMIME-Version: 1.0\r\n${body}`);
}

describe("parseEmail on hostile input", () => {
  it("When the input is garbage bytes, then it parses as a mail with no sender and a generated id", async () => {
    const outcome = await attempt("garbage", Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256)));
    expect(outcome.kind).toBe("parsed");
    if (outcome.kind === "parsed") {
      expect(outcome.email.from).toBeNull();
      expect(outcome.email.messageIdGenerated).toBe(true);
    }
  });

  it("When the input is a megabyte of random bytes, then it ends with a result", async () => {
    expect((await attempt("random 1 MB", randomBytes(1024 * 1024))).kind).toBe("parsed");
  });

  it("When the input is empty or has no headers, then it parses as an empty mail", async () => {
    for (const raw of [Buffer.alloc(0), Buffer.from("just a body line\r\nand another\r\n")]) {
      const outcome = await attempt("no headers", raw);
      expect(outcome.kind).toBe("parsed");
      if (outcome.kind === "parsed") expect(outcome.email).toMatchObject({ from: null, subject: "", to: [], attachments: [] });
    }
  });

  it("When the charset is unknown and the base64 is broken, then the mail still parses with best-effort text", async () => {
    const outcome = await attempt(
      "broken charset and base64",
      Buffer.from(
        "From: john@acme.com\r\nSubject: =?x-unknown?B?!!!notbase64?=\r\nMessage-ID: <cs-1@acme.com>\r\nContent-Type: text/plain; charset=x-made-up\r\nContent-Transfer-Encoding: base64\r\n\r\n%%%% not base64 %%%%\r\n",
      ),
    );
    expect(outcome.kind).toBe("parsed");
    if (outcome.kind === "parsed") expect(outcome.email).toMatchObject({ messageId: "cs-1@acme.com", from: { address: "john@acme.com" } });
  });

  it("When quoted-printable is broken, then the mail still parses", async () => {
    const outcome = await attempt(
      "broken quoted-printable",
      Buffer.from(
        "From: john@acme.com\r\nSubject: =?utf-8?Q?bad=ZZqp=?=\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nbad =ZZ =\r\n=E2=82 end\r\n",
      ),
    );
    expect(outcome.kind).toBe("parsed");
    if (outcome.kind === "parsed") expect(outcome.email.text).toContain("end");
  });

  it("When a UTF-7 body arrives, then it is kept undecoded rather than failing", async () => {
    const outcome = await attempt("utf-7", Buffer.from("From: john@acme.com\r\nContent-Type: text/plain; charset=utf-7\r\n\r\n+AGEAYgBj-\r\n"));
    expect(outcome.kind).toBe("parsed");
  });

  it("When multiparts nest 998 levels deep, then the innermost text is still read", async () => {
    const outcome = await attempt("998 nested multiparts", nestedMultiparts(998));
    expect(outcome.kind).toBe("parsed");
    if (outcome.kind === "parsed") expect(outcome.email.text?.trim()).toBe("innermost");
  });

  it("When multiparts nest 1,000 levels deep, then it is refused with a message saying why", async () => {
    const outcome = await attempt("1,000 nested multiparts", nestedMultiparts(1000));
    expect(outcome).toMatchObject({ kind: "refused", message: expect.stringContaining("more than 1000 MIME parts") });
  });

  it("When multiparts nest 20,000 levels deep, then it is refused without blowing the stack", async () => {
    const outcome = await attempt("20,000 nested multiparts", nestedMultiparts(20_000));
    expect(outcome).toMatchObject({ kind: "refused", message: expect.stringContaining("MIME parts") });
  });

  it("When attached messages nest 500 levels deep, then it parses", async () => {
    let inner = "From: a@b.example\r\nSubject: in\r\n\r\nhello\r\n";
    for (let i = 0; i < 500; i++) inner = `From: a${i}@b.example\r\nContent-Type: message/rfc822\r\nContent-Disposition: inline\r\n\r\n${inner}`;
    expect((await attempt("500 nested messages", Buffer.from(inner))).kind).toBe("parsed");
  });

  it("When a mail has 10,000 recipients, then all of them are read", async () => {
    const outcome = await attempt(
      "10,000 recipients",
      buildEmail({ to: Array.from({ length: 10_000 }, (_, i) => `user${i}@example.org`), subject: "many" }),
    );
    expect(outcome.kind).toBe("parsed");
    if (outcome.kind === "parsed") expect(outcome.email.to).toHaveLength(10_000);
  });

  it("When a header block is over 1 MiB, then it is refused with a message saying why", async () => {
    const outcome = await attempt("2 MiB subject", Buffer.from(`From: a@b.example\r\nSubject: ${"x".repeat(2 * 1024 * 1024)}\r\n\r\nhi`));
    expect(outcome).toMatchObject({ kind: "refused", message: expect.stringContaining("header block is larger than 1 MiB") });
  });

  it("When the body is 40 MB of text, then it completes", async () => {
    const outcome = await attempt("40 MB text body", buildEmail({ subject: "huge", text: "0123456789abcdef\r\n".repeat((40 * 1024 * 1024) / 18) }));
    expect(outcome.kind).toBe("parsed");
    if (outcome.kind === "parsed") expect(outcome.email.text?.length).toBeGreaterThan(37 * 1024 * 1024);
  });

  it("When the body is a 40 MB attachment, then it completes with the right hash", async () => {
    const content = randomBytes(40 * 1024 * 1024);
    const outcome = await attempt("40 MB attachment", buildEmail({ attachments: [{ filename: "big.bin", contentType: "application/octet-stream", content }] }));
    expect(outcome.kind).toBe("parsed");
    if (outcome.kind === "parsed") expect(outcome.email.attachments[0]?.size).toBe(content.length);
  });
});
