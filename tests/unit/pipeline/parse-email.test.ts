import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { parseEmail } from "../../../src/pipeline/parse-email.ts";
import { buildEmail } from "../../helpers/build-email.ts";

const sha256 = (data: Buffer | string) => createHash("sha256").update(data).digest("hex");
const raw = (...lines: string[]) => Buffer.from(lines.join("\r\n"), "utf8");

describe("parseEmail", () => {
  it("When a plain support mail arrives, then its people, subject, date, ids and body are read", async () => {
    const email = await parseEmail(
      buildEmail({
        from: "John Smith <John@ACME.com>",
        to: ["support@mailgate.test", "Help Desk <help@mailgate.test>"],
        cc: ["boss@acme.com"],
        subject: "Printer is broken",
        messageId: "<ABC-1@acme.com>",
        inReplyTo: "<prev-2@mailgate.test>",
        references: ["<root-1@acme.com>", "<prev-2@mailgate.test>"],
        headers: { "Reply-To": "tickets@acme.com" },
        text: "It jams.",
        date: new Date("2024-03-01T09:30:00Z"),
      }),
    );
    expect(email).toMatchObject({
      messageId: "abc-1@acme.com",
      messageIdGenerated: false,
      inReplyTo: ["prev-2@mailgate.test"],
      references: ["root-1@acme.com", "prev-2@mailgate.test"],
      subject: "Printer is broken",
      from: { address: "john@acme.com", name: "John Smith" },
      to: [
        { address: "support@mailgate.test", name: "" },
        { address: "help@mailgate.test", name: "Help Desk" },
      ],
      cc: [{ address: "boss@acme.com", name: "" }],
      replyTo: [{ address: "tickets@acme.com", name: "" }],
      html: null,
      attachments: [],
      contentType: "text/plain",
      reportType: null,
      embeddedMessageIds: [],
    });
    expect(email.date?.toISOString()).toBe("2024-03-01T09:30:00.000Z");
    expect(email.text?.trim()).toBe("It jams.");
  });

  it("When a mail has no Message-ID, then a stable one is generated from its headers", async () => {
    const mail = buildEmail({ messageId: null, date: new Date("2024-01-01T00:00:00Z") });
    const first = await parseEmail(mail);
    const redelivered = await parseEmail(Buffer.concat([Buffer.from("Received: from elsewhere by mx.other.test\r\nDelivered-To: other@mailgate.test\r\n"), mail]));
    expect(first.messageIdGenerated).toBe(true);
    expect(first.messageId).toMatch(/^[0-9a-f]{64}@generated\.mailgate$/);
    expect(redelivered.messageId).toBe(first.messageId);
  });

  it("When the Message-ID is garbage, then the mail is treated as having none", async () => {
    const email = await parseEmail(raw("From: a@b.example", "Message-ID: <>", "Subject: x", "", "body"));
    expect(email.messageIdGenerated).toBe(true);
  });

  it("When the subject ends in an encoded space, then the space is kept; space around the raw header is not", async () => {
    expect((await parseEmail(raw("From: a@b.example", "Subject: =?iso-8859-1?Q?CI_Daten_f=FCr_PublicView_?=", "", "x"))).subject).toBe(
      "CI Daten für PublicView ",
    );
    expect((await parseEmail(raw("From: a@b.example", "Subject: =?UTF-8?Q?Priorit=C3=A4t?=  ", "", "x"))).subject).toBe("Priorität");
  });

  it("When the subject is folded, then unfolding keeps the whitespace that followed each line break", async () => {
    const email = await parseEmail(raw("From: a@b.example", "Subject: one  ", "\ttwo", " three", "", "x"));
    expect(email.subject).toBe("one  \ttwo three");
  });

  it("When a multi-byte character is split across encoded words, then it is joined before decoding", async () => {
    const bytes = Buffer.from("使って", "utf8");
    const words = [bytes.subarray(0, 4), bytes.subarray(4)].map((b) => `=?UTF-8?B?${b.toString("base64")}?=`);
    expect((await parseEmail(raw("From: a@b.example", `Subject: ${words[0]}`, ` ${words[1]}`, "", "x"))).subject).toBe("使って");
  });

  it("When the subject is raw 8-bit text in the message's charset, then that charset decodes it", async () => {
    const mail = Buffer.concat([
      Buffer.from("From: a@b.example\r\nSubject: "),
      Buffer.from("Größe", "latin1"),
      Buffer.from("\r\nContent-Type: text/plain; charset=iso-8859-1\r\n\r\nx"),
    ]);
    expect((await parseEmail(mail)).subject).toBe("Größe");
  });

  it("When a multipart mail names its charset only on its parts, then raw 8-bit subject and file name are read in it", async () => {
    const gb2312 = (hex: string) => Buffer.from(hex, "hex");
    // 绩效管理 in GB2312, raw in the Subject and in the attachment's name parameters.
    const name = gb2312("bca8d0a7b9dcc0ed");
    const mail = Buffer.concat([
      Buffer.from("From: "),
      name,
      Buffer.from(" <a@b.example>\r\nSubject: "),
      name,
      Buffer.from('\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain; charset="gb2312"\r\n\r\nhi\r\n'),
      Buffer.from('--b\r\nContent-Type: application/octet-stream; name="'),
      name,
      Buffer.from('.xls"\r\nContent-Disposition: attachment; filename="'),
      name,
      Buffer.from('.xls"\r\nContent-Transfer-Encoding: base64\r\n\r\nAAEC\r\n--b--\r\n'),
    ]);
    const email = await parseEmail(mail);
    expect(email.subject).toBe("绩效管理");
    expect(email.from).toEqual({ address: "a@b.example", name: "绩效管理" });
    expect(email.attachments.map((a) => a.filename)).toEqual(["绩效管理.xls"]);
  });

  it("When a file name came MIME-encoded, then it is kept as decoded whatever charset the message names", async () => {
    const mail = raw(
      "From: a@b.example",
      "Subject: x",
      'Content-Type: multipart/mixed; boundary="b"; charset="gb2312"',
      "",
      "--b",
      "Content-Type: text/plain",
      "",
      "hi",
      "--b",
      "Content-Type: application/octet-stream",
      "Content-Disposition: attachment; filename*=iso-8859-1''Gr%FC%DFe.txt",
      "Content-Transfer-Encoding: base64",
      "",
      "AAEC",
      "--b--",
    );
    expect((await parseEmail(mail)).attachments.map((a) => a.filename)).toEqual(["Grüße.txt"]);
  });

  it("When Japanese mail labelled ISO-2022-JP carries 8-bit Shift_JIS, then it is read as Shift_JIS", async () => {
    const mail = Buffer.concat([
      Buffer.from("From: =?ISO-2022-JP?B?g2OBW4OLIEVYQU1QTEU=?= <bar@example.org>\r\nSubject: "),
      Buffer.from("8363815b838b", "hex"),
      Buffer.from("\r\nContent-Type: text/plain; charset=iso-2022-jp\r\n\r\nx"),
    ]);
    const email = await parseEmail(mail);
    expect(email.subject).toBe("ツール");
    expect(email.from).toEqual({ address: "bar@example.org", name: "ツール EXAMPLE" });
  });

  it("When the sender's name is raw 8-bit text, then it is read like the subject, quotes and all", async () => {
    const mail = Buffer.concat([
      Buffer.from('From: "'),
      Buffer.from("M\u00fcller, J\u00fcrgen", "latin1"),
      Buffer.from('" <JM@b.example>\r\nSubject: x\r\nContent-Type: text/plain; charset=iso-8859-1\r\n\r\nx'),
    ]);
    expect((await parseEmail(mail)).from).toEqual({ address: "jm@b.example", name: "Müller, Jürgen" });
  });

  it("When there is no subject, then it is empty", async () => {
    expect((await parseEmail(raw("From: a@b.example", "", "x"))).subject).toBe("");
  });

  it("When addresses come in groups, then the groups flatten to their members", async () => {
    const email = await parseEmail(raw("From: a@b.example", "To: Team: x@y.example, Z <z@y.example>;, w@y.example", "Cc: undisclosed-recipients:;", "", "x"));
    expect(email.to.map((a) => a.address)).toEqual(["x@y.example", "z@y.example", "w@y.example"]);
    expect(email.cc).toEqual([]);
  });

  it("When From is missing or empty, then the sender comes from Sender or Reply-To", async () => {
    expect((await parseEmail(raw("Reply-To: <real@126.example>", "Subject: x", "", "x"))).from?.address).toBe("real@126.example");
    expect((await parseEmail(raw('From: "Me" <>', "Reply-To: <real@126.example>", "", "x"))).from?.address).toBe("real@126.example");
    expect((await parseEmail(raw("From: [??????]", "From: Real <real@185.example>", "", "x"))).from?.address).toBe("real@185.example");
  });

  it("When Postfix writes From: MAILER-DAEMON without a domain, then that is the sender", async () => {
    const email = await parseEmail(raw("From: MAILER-DAEMON (Mail Delivery System)", "Subject: Undelivered Mail", "", "x"));
    expect(email.from).toEqual({ address: "mailer-daemon", name: "" });
  });

  it("When there is no sender at all, then from is null", async () => {
    expect((await parseEmail(raw("Subject: x", "", "x"))).from).toBeNull();
  });

  it("When the Date cannot be read, then date is null rather than now", async () => {
    expect((await parseEmail(raw("From: a@b.example", "Date: the day before yesterday", "", "x"))).date).toBeNull();
  });

  it("When a mail has attachments, then each comes with its bytes, size, type and sha256", async () => {
    const pdf = Buffer.from("%PDF-1.4 fake invoice");
    const email = await parseEmail(
      buildEmail({
        html: '<p>See <img src="cid:logo@acme"></p>',
        attachments: [
          { filename: "invoice.pdf", contentType: "application/pdf", content: pdf },
          { filename: "logo.png", contentType: "image/png", content: Buffer.from([137, 80, 78, 71]), inline: true, contentId: "logo@acme" },
          { filename: "Größe — ü.txt", contentType: "text/plain", content: "hello" },
        ],
      }),
    );
    expect(email.attachments.map(({ content: _content, ...rest }) => rest)).toEqual([
      { filename: "invoice.pdf", originalFilename: "invoice.pdf", contentType: "application/pdf", size: pdf.length, sha256: sha256(pdf), contentId: null, inline: false },
      { filename: "logo.png", originalFilename: "logo.png", contentType: "image/png", size: 4, sha256: sha256(Buffer.from([137, 80, 78, 71])), contentId: "logo@acme", inline: true },
      { filename: "Größe — ü.txt", originalFilename: "Größe — ü.txt", contentType: "text/plain", size: 5, sha256: sha256("hello"), contentId: null, inline: false },
    ]);
    expect(email.attachments[0]?.content.equals(pdf)).toBe(true);
    // cid: links stay links: the image is an attachment, not copied into the HTML.
    expect(email.html).toContain('src="cid:logo@acme"');
  });

  it("When an attachment has no file name, then it gets one from what the part says about itself", async () => {
    const email = await parseEmail(
      raw(
        "From: a@b.example",
        'Content-Type: multipart/mixed; boundary="b"',
        "",
        "--b",
        "Content-Type: text/plain",
        "",
        "see attached",
        "--b",
        "Content-Type: application/pdf",
        "Content-Transfer-Encoding: base64",
        "",
        Buffer.from("pdf").toString("base64"),
        "--b",
        "Content-Type: image/jpeg",
        "Content-ID: <image001.jpg@01CDB132.D8A510F0>",
        "Content-Transfer-Encoding: base64",
        "",
        Buffer.from("jpg").toString("base64"),
        "--b",
        "Content-Type: application/x-unknown",
        "Content-Description: Delivery report",
        "",
        "status",
        "--b",
        "Content-Type: application/x-unknown",
        "",
        "blob",
        "--b--",
        "",
      ),
    );
    expect(email.attachments.map((a) => a.filename)).toEqual(["attachment-1.pdf", "image001.jpg", "Delivery report.bin", "attachment-4.bin"]);
    expect(email.attachments.map((a) => a.originalFilename)).toEqual([null, null, null, null]);
  });

  it("When an attachment's name is hostile, then filename is made safe and originalFilename keeps it as sent", async () => {
    const email = await parseEmail(
      buildEmail({
        attachments: [
          { filename: "../../etc/passwd", contentType: "text/plain", content: "a" },
          { filename: 'a"b\r\nX-Injected: 1.txt', contentType: "text/plain", content: "b" },
          { filename: "invoice\u202egnp.exe", contentType: "application/octet-stream", content: "c" },
          { filename: "...", contentType: "application/pdf", content: "d" },
        ],
      }),
    );
    expect(email.attachments.map(({ filename, originalFilename }) => ({ filename, originalFilename }))).toEqual([
      { filename: "_.._etc_passwd", originalFilename: "../../etc/passwd" },
      { filename: "a_b X-Injected_ 1.txt", originalFilename: 'a"b\r\nX-Injected: 1.txt' },
      { filename: "invoicegnp.exe", originalFilename: "invoice\u202egnp.exe" },
      { filename: "attachment.pdf", originalFilename: "..." },
    ]);
  });

  it("When an attachment is uuencoded, then its decoded bytes are stored", async () => {
    const email = await parseEmail(
      raw(
        "From: a@b.example",
        'Content-Type: multipart/mixed; boundary="b"',
        "",
        "--b",
        'Content-Type: application/msword; name="notes.txt"',
        "Content-Transfer-Encoding: x-uuencode",
        "",
        ",2&5L;&\\@6F%M;6%D",
        "`",
        "--b--",
        "",
      ),
    );
    expect(email.attachments[0]).toMatchObject({ filename: "notes.txt", size: 12, sha256: sha256("Hello Zammad") });
  });

  it("When a bounce reports on one of our mails, then the original's Message-ID is found inside it", async () => {
    const original = buildEmail({ from: "support@mailgate.test", to: "gone@acme.com", messageId: "<T-1234.reply@mailgate.test>" });
    const email = await parseEmail(
      buildEmail({
        from: "MAILER-DAEMON@mx.acme.com",
        subject: "Undelivered Mail Returned to Sender",
        reportType: "delivery-status",
        headers: { "Return-Path": "<>" },
        text: "I'm sorry to have to inform you that your message could not be delivered.",
        attachments: [
          { filename: "status.txt", contentType: "message/delivery-status", content: "Reporting-MTA: dns; mx.acme.com\r\n\r\nFinal-Recipient: rfc822; gone@acme.com\r\nAction: failed\r\nStatus: 5.1.1\r\n" },
          { filename: "original.eml", contentType: "message/rfc822", content: original },
        ],
      }),
    );
    expect(email.contentType).toBe("multipart/report");
    expect(email.reportType).toBe("delivery-status");
    expect(email.headers["return-path"]).toBe("<>");
    expect(email.embeddedMessageIds).toEqual(["t-1234.reply@mailgate.test"]);
  });

  it("When a bounce quotes only the original's headers, then the Message-ID is found there", async () => {
    const email = await parseEmail(
      buildEmail({
        from: "postmaster@mx.acme.com",
        attachments: [{ filename: "headers.txt", contentType: "text/rfc822-headers", content: "From: support@mailgate.test\r\nMessage-ID: <orig-9@mailgate.test>\r\n" }],
      }),
    );
    expect(email.embeddedMessageIds).toEqual(["orig-9@mailgate.test"]);
  });

  it("When a MAILER-DAEMON bounce quotes the original in its text, then the Message-ID is found there", async () => {
    const email = await parseEmail(
      buildEmail({ from: "MAILER-DAEMON@qmail.example", text: "Hi. This is the qmail-send program.\r\n--- Below this line is a copy of the message.\r\n\r\nMessage-ID: <orig-7@mailgate.test>\r\nSubject: hi\r\n" }),
    );
    expect(email.embeddedMessageIds).toEqual(["orig-7@mailgate.test"]);
  });

  it("When a person forwards a mail as an attachment, then its subject names the file", async () => {
    const forwarded = buildEmail({ subject: "Angebot für Anpassung [Ticket#113588]", messageId: "<fw-1@acme.com>" });
    const email = await parseEmail(
      buildEmail({ attachments: [{ filename: "", contentType: "message/rfc822", content: forwarded }] }),
    );
    expect(email.attachments[0]?.filename).toBe("Angebot für Anpassung [Ticket#113588].eml");
  });

  it("When loop and auto-reply headers are present, then their raw values are kept for classify", async () => {
    const email = await parseEmail(
      buildEmail({
        headers: {
          "Auto-Submitted": "auto-replied; owner-email=john@acme.com",
          Precedence: "bulk",
          "X-Auto-Response-Suppress": "All",
          "List-Id": "Support list <support.lists.acme.com>",
          "X-Mailgate-Loop": "yes",
          "X-Unrelated": "not kept",
        },
      }),
    );
    expect(email.headers).toMatchObject({
      "auto-submitted": "auto-replied; owner-email=john@acme.com",
      precedence: "bulk",
      "x-auto-response-suppress": "All",
      "list-id": "Support list <support.lists.acme.com>",
      "x-mailgate-loop": "yes",
    });
    expect(email.headers["x-unrelated"]).toBeUndefined();
    expect(email.headers["content-type"]).toMatch(/^text\/plain/);
  });

  it("When the body holds NUL bytes, then they are dropped so the text can be stored", async () => {
    const email = await parseEmail(raw("From: a@b.example", "Subject: a\u0000b", "", "be\u0000fore"));
    expect(email.subject).toBe("ab");
    expect(email.text).not.toContain("\u0000");
  });
});
