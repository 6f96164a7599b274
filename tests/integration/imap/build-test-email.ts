// A tiny RFC 5322 builder for the IMAP tests (only what they vary), with an optional attachment.
import { randomBytes } from "node:crypto";

export type TestEmail = {
  from?: string;
  to?: string;
  subject?: string;
  text?: string;
  messageId?: string;
  attachment?: { filename: string; content: Buffer; contentType?: string };
};

export function buildTestEmail(e: TestEmail = {}): Buffer {
  const messageId = e.messageId ?? `<${randomBytes(8).toString("hex")}@acme.com>`;
  const headers = [
    `From: ${e.from ?? "John Smith <john@acme.com>"}`,
    `To: ${e.to ?? "support@mailgate.test"}`,
    `Subject: ${e.subject ?? "Printer is broken"}`,
    `Message-ID: ${messageId}`,
    `Date: ${new Date().toUTCString()}`,
    "MIME-Version: 1.0",
  ];
  const text = e.text ?? "Hello, the printer on floor 2 is broken again.";
  if (!e.attachment) {
    return Buffer.from([...headers, "Content-Type: text/plain; charset=utf-8", "", text, ""].join("\r\n"));
  }
  const boundary = `b_${randomBytes(6).toString("hex")}`;
  const base64 = e.attachment.content.toString("base64").replace(/.{76}/g, "$&\r\n");
  return Buffer.from(
    [
      ...headers,
      `Content-Type: multipart/mixed; boundary="${boundary}"`,
      "",
      `--${boundary}`,
      "Content-Type: text/plain; charset=utf-8",
      "",
      text,
      `--${boundary}`,
      `Content-Type: ${e.attachment.contentType ?? "application/octet-stream"}; name="${e.attachment.filename}"`,
      `Content-Disposition: attachment; filename="${e.attachment.filename}"`,
      "Content-Transfer-Encoding: base64",
      "",
      base64,
      `--${boundary}--`,
      "",
    ].join("\r\n"),
  );
}
