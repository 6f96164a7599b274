// Amazon SES receiving through an SNS action: SNS posts JSON (x-amz-sns-message-type). A
// Notification's Message is SES's receipt notification, whose `content` is the raw message
// (base64 when the action's encoding is BASE64). Every message is signed by SNS: the signature
// is checked against the certificate at SigningCertURL before anything else is believed, and a
// signed message older than SNS ever retries is a replay.
import type { X509Certificate } from "node:crypto";
import { createHash } from "node:crypto";
import type { PostedMail } from "./read-posted-mail.ts";
import { isSnsUrl, parseSnsMessage, snsAgeProblem, verifySnsSignature, type SnsMessage } from "./sns-message.ts";

/** The network side: certificates by URL (cached), and the GET that confirms a subscription. */
export type SesVerifier = {
  certificateBase: string | null;
  /** null: what the URL answered is not a certificate. Rejects with an AppError (503) when it cannot be fetched now. */
  certificate(url: string): Promise<X509Certificate | null>;
  confirm(url: string): Promise<void>;
};

export type SesPosted = PostedMail | { kind: "answered"; body: Record<string, unknown> };

const malformed = (reason: string): SesPosted => ({ kind: "refused", status: 400, code: "invalid_body", message: `This is not an Amazon SNS message carrying SES mail: ${reason}.` });
const forged = (reason: string): SesPosted => ({ kind: "refused", status: 401, code: "unauthorized", message: "The SNS message's signature, certificate or topic is not the one expected.", reason });

const stale = (reason: string): SesPosted => ({ kind: "refused", status: 401, code: "unauthorized", message: "The SNS message is older than SNS retries (its Timestamp): refused as a replay.", reason });

export async function readSes(verifier: SesVerifier, body: Buffer, topicArn: string, now: Date): Promise<SesPosted> {
  const parsed = parseSnsMessage(body);
  if (!parsed.ok) return malformed(parsed.reason);
  const m = parsed.message;
  if (m.TopicArn !== topicArn) return forged(`topic ${m.TopicArn} is not the source's ${topicArn}`);
  if (!isSnsUrl(m.SigningCertURL, verifier.certificateBase)) return forged(`SigningCertURL ${m.SigningCertURL} is not an SNS URL`);
  const certificate = await verifier.certificate(m.SigningCertURL);
  if (certificate === null) return forged(`${m.SigningCertURL} is not a certificate`);
  if (!verifySnsSignature(m, certificate)) return forged("signature does not verify");
  const age = snsAgeProblem(m, now);
  if (age !== null) return stale(age);
  switch (m.Type) {
    case "SubscriptionConfirmation":
      if (!isSnsUrl(m.SubscribeURL!, verifier.certificateBase)) return forged(`SubscribeURL ${m.SubscribeURL} is not an SNS URL`);
      await verifier.confirm(m.SubscribeURL!);
      return { kind: "answered", body: { confirmed: true, topicArn: m.TopicArn } };
    case "UnsubscribeConfirmation":
      return { kind: "answered", body: { unsubscribed: true, topicArn: m.TopicArn } };
    case "Notification":
      return mailOf(m);
  }
}

function mailOf(m: SnsMessage): SesPosted {
  let notification: { notificationType?: unknown; content?: unknown; receipt?: { action?: { encoding?: unknown } } };
  try {
    notification = JSON.parse(m.Message) as typeof notification;
  } catch {
    return malformed("the Message is not SES's receipt notification JSON");
  }
  if (notification.notificationType !== "Received") {
    return { kind: "answered", body: { ignored: `notificationType ${String(notification.notificationType)}` } };
  }
  if (typeof notification.content !== "string" || notification.content.length === 0) {
    return malformed("the notification has no content: use an SNS action (not S3) in the SES receipt rule, for mail up to 150 KB; for larger mail see docs/inbound-webhooks.md, \"Mail over 150 KB\"");
  }
  const raw = notification.receipt?.action?.encoding === "BASE64" ? Buffer.from(notification.content, "base64") : Buffer.from(notification.content, "utf8");
  return { kind: "mail", raw, providerMessageId: "sha256:" + createHash("sha256").update(raw).digest("hex"), oneTimeToken: false };
}
