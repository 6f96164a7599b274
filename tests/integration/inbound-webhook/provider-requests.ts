// Requests built as each mail service documents them, signed with the test's own keys.
import { createHmac, createSign, randomBytes } from "node:crypto";

/** multipart/form-data as a browser or a mail service sends it; values kept as bytes. */
export function multipartForm(fields: Record<string, string | Buffer>): { body: Buffer; contentType: string } {
  const boundary = `----mailgate-test-${randomBytes(8).toString("hex")}`;
  const parts = Object.entries(fields).map(([name, value]) =>
    Buffer.concat([Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n`), Buffer.from(value), Buffer.from("\r\n")]),
  );
  return { body: Buffer.concat([...parts, Buffer.from(`--${boundary}--\r\n`)]), contentType: `multipart/form-data; boundary=${boundary}` };
}

/** Mailgun's signature fields: hex HMAC-SHA256 of timestamp + token under the webhook signing key. */
export function mailgunSignature(signingKey: string, at: Date, token = randomBytes(25).toString("hex")) {
  const timestamp = String(Math.floor(at.getTime() / 1000));
  return { timestamp, token, signature: createHmac("sha256", signingKey).update(timestamp + token).digest("hex") };
}

export const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;

/** Postmark's inbound JSON (abridged to the fields that matter), with "include raw email content" on. */
export function postmarkBody(raw: Buffer | null): Record<string, unknown> {
  return {
    FromFull: { Email: "john@acme.com", Name: "John" },
    Subject: "from Postmark",
    MessageID: "22c74902-a0c1-4511-804f-341342852c90",
    TextBody: "the parsed text",
    Attachments: [],
    ...(raw === null ? {} : { RawEmail: raw.toString("utf8") }),
  };
}

type SnsFields = Record<string, string>;

/**
 * An SNS HTTP(S) message signed as AWS documents it: the string to sign is each field's name and
 * value on their own lines, in this order; SignatureVersion 1 = SHA1withRSA, 2 = SHA256withRSA.
 */
export function signSns(fields: SnsFields, privateKeyPem: string, version: "1" | "2" = "2"): SnsFields {
  const order =
    fields.Type === "Notification"
      ? ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
      : ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"];
  const text = order.filter((k) => fields[k] !== undefined).map((k) => `${k}\n${fields[k]}\n`).join("");
  const signature = createSign(version === "1" ? "RSA-SHA1" : "RSA-SHA256").update(text).sign(privateKeyPem, "base64");
  return { ...fields, SignatureVersion: version, Signature: signature };
}

/** SES's receipt notification for an SNS action, the raw message as `content`. */
export function sesReceipt(raw: Buffer, encoding: "BASE64" | "UTF8"): string {
  return JSON.stringify({
    notificationType: "Received",
    mail: { source: "john@acme.com", messageId: randomBytes(8).toString("hex"), destination: ["support@mailgate.test"] },
    receipt: { recipients: ["support@mailgate.test"], action: { type: "SNS", topicArn: "arn:aws:sns:eu-west-1:123456789012:mailgate", encoding } },
    content: encoding === "BASE64" ? raw.toString("base64") : raw.toString("utf8"),
  });
}
