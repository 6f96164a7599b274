// The factory every other test builds its mail with: what it writes must be strict MIME, and
// parse back to exactly what was asked for.
import { describe, expect, it } from "vitest";
import { parseEmail } from "../../../src/pipeline/parse-email.ts";
import { buildEmail } from "../../helpers/build-email.ts";

function lines(raw: Buffer): string[] {
  return raw.toString("latin1").split("\r\n");
}

describe("buildEmail", () => {
  it("When called with nothing, then it builds the documented default mail", async () => {
    const email = await parseEmail(buildEmail());
    expect(email).toMatchObject({
      from: { address: "john@acme.com", name: "" },
      to: [{ address: "support@mailgate.test", name: "" }],
      subject: "Printer is broken",
      messageIdGenerated: false,
    });
    expect(email.messageId).toMatch(/@acme\.com$/);
    expect(email.text).toContain("printer");
  });

  it("When two mails are built, then their Message-IDs differ", async () => {
    expect((await parseEmail(buildEmail())).messageId).not.toBe((await parseEmail(buildEmail())).messageId);
  });

  it("When any mail is built, then every line ends in CRLF and is at most 998 octets", () => {
    const raw = buildEmail({
      subject: "ü".repeat(400),
      to: Array.from({ length: 50 }, (_, i) => `Person ${i} <p${i}@acme.com>`),
      text: `${"long line ".repeat(300)}\nbare LF\r\nCRLF`,
      html: "<p>hi</p>",
      attachments: [{ filename: "a.bin", contentType: "application/octet-stream", content: Buffer.alloc(5000, 1) }],
    });
    const text = raw.toString("latin1");
    expect(text.replace(/\r\n/g, "")).not.toMatch(/[\r\n]/);
    expect(Math.max(...lines(raw).map((l) => l.length))).toBeLessThanOrEqual(998);
  });

  it("When names, subject and file names are not ASCII, then they are encoded and parse back intact", async () => {
    const email = await parseEmail(
      buildEmail({
        from: "Jörg Müller <jorg@acme.de>",
        cc: ['"Smith, Jane" <jane@acme.com>'],
        subject: "Größe: 使って — ok  ",
        attachments: [{ filename: "Übersicht (März).pdf", contentType: "application/pdf", content: "x" }],
      }),
    );
    expect(email.from).toEqual({ address: "jorg@acme.de", name: "Jörg Müller" });
    expect(email.cc).toEqual([{ address: "jane@acme.com", name: "Smith, Jane" }]);
    expect(email.subject).toBe("Größe: 使って — ok  ");
    expect(email.attachments[0]?.filename).toBe("Übersicht (März).pdf");
  });

  it("When messageId is null, then the mail has no Message-ID", async () => {
    const raw = buildEmail({ messageId: null });
    expect(raw.toString("latin1")).not.toMatch(/^Message-ID:/im);
    expect((await parseEmail(raw)).messageIdGenerated).toBe(true);
  });

  it("When ids are given without brackets, then they are written with them", () => {
    const raw = buildEmail({ messageId: "a@b", inReplyTo: "c@d", references: ["e@f", "<c@d>"] }).toString("latin1");
    expect(raw).toContain("Message-ID: <a@b>\r\n");
    expect(raw).toContain("In-Reply-To: <c@d>\r\n");
    expect(raw).toContain("References: <e@f>\r\n <c@d>\r\n");
  });

  it("When a header is given that is also a standard one, then it replaces it", async () => {
    const raw = buildEmail({ headers: { Subject: "replaced", "Auto-Submitted": "auto-replied" } });
    expect(raw.toString("latin1").match(/^Subject:/gim)).toHaveLength(1);
    const email = await parseEmail(raw);
    expect(email.subject).toBe("replaced");
    expect(email.headers["auto-submitted"]).toBe("auto-replied");
  });

  it("When a header would change the MIME structure, then building refuses it", () => {
    expect(() => buildEmail({ headers: { "Content-Type": "text/html" } })).toThrow(/Content-Type/);
  });

  it("When text and html are given, then both come back", async () => {
    const email = await parseEmail(buildEmail({ text: "plain version", html: "<p>html version</p>" }));
    expect(email.text?.trim()).toBe("plain version");
    expect(email.html).toContain("html version");
  });

  it("When only html is given, then there is no default text part", async () => {
    const raw = buildEmail({ html: "<p>only</p>" });
    expect(raw.toString("latin1")).not.toContain("text/plain");
  });

  it("When text is not ASCII, then it round-trips", async () => {
    expect((await parseEmail(buildEmail({ text: "Grüße, 使って\n" }))).text?.trim()).toBe("Grüße, 使って");
  });

  it("When attachments are given, then their bytes come back exactly", async () => {
    const bytes = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 256));
    const email = await parseEmail(buildEmail({ attachments: [{ filename: "data.bin", contentType: "application/octet-stream", content: bytes }] }));
    expect(email.attachments[0]?.content.equals(bytes)).toBe(true);
  });

  it("When a date is given, then it is written in RFC 5322 form", async () => {
    const raw = buildEmail({ date: new Date("2024-02-29T23:05:09Z") });
    expect(raw.toString("latin1")).toContain("Date: Thu, 29 Feb 2024 23:05:09 +0000\r\n");
    expect((await parseEmail(raw)).date?.toISOString()).toBe("2024-02-29T23:05:09.000Z");
  });

  it("When to is an empty list, then the mail has no To header", () => {
    expect(buildEmail({ to: [] }).toString("latin1")).not.toMatch(/^To:/im);
  });
});
