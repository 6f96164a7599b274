// An Amazon SNS HTTP(S) message and its signature, as AWS documents them ("Verifying the
// signatures of Amazon SNS messages"): the fields to sign, in that order, each as
// "Name\nvalue\n"; SignatureVersion 1 is SHA1withRSA, 2 is SHA256withRSA; the signature base64.
// Pure: the signing certificate is given by the caller.
import { createVerify, type X509Certificate } from "node:crypto";

export type SnsMessage = {
  Type: "Notification" | "SubscriptionConfirmation" | "UnsubscribeConfirmation";
  MessageId: string;
  TopicArn: string;
  Message: string;
  Timestamp: string;
  SignatureVersion: "1" | "2";
  Signature: string;
  SigningCertURL: string;
  Subject?: string;
  SubscribeURL?: string;
  Token?: string;
};

const TYPES = ["Notification", "SubscriptionConfirmation", "UnsubscribeConfirmation"];

/** The SNS message in a body, or what is wrong with it. */
export function parseSnsMessage(body: Buffer): { ok: true; message: SnsMessage } | { ok: false; reason: string } {
  let value: unknown;
  try {
    value = JSON.parse(body.toString("utf8"));
  } catch {
    return { ok: false, reason: "the body is not JSON" };
  }
  if (typeof value !== "object" || value === null) return { ok: false, reason: "expected a JSON object" };
  const m = value as Record<string, unknown>;
  if (typeof m.Type !== "string" || !TYPES.includes(m.Type)) return { ok: false, reason: `Type must be one of ${TYPES.join(", ")}` };
  for (const field of ["MessageId", "TopicArn", "Message", "Timestamp", "Signature", "SigningCertURL"]) {
    if (typeof m[field] !== "string") return { ok: false, reason: `${field} is missing` };
  }
  if (Number.isNaN(Date.parse(m.Timestamp as string))) return { ok: false, reason: "Timestamp is not an ISO-8601 time" };
  if (m.SignatureVersion !== "1" && m.SignatureVersion !== "2") return { ok: false, reason: "SignatureVersion must be \"1\" or \"2\"" };
  if (m.Type !== "Notification" && (typeof m.SubscribeURL !== "string" || typeof m.Token !== "string")) {
    return { ok: false, reason: `a ${m.Type} needs SubscribeURL and Token` };
  }
  return { ok: true, message: m as unknown as SnsMessage };
}

/**
 * How old a signed message may be: SNS retries an HTTP(S) endpoint for at most 3,600 s in all (a
 * hard limit of any delivery policy) and a retry keeps the first Timestamp, so twice that refuses
 * no genuine retry, even one held back by throttling or a clock of ours running ahead.
 */
export const SNS_MAX_AGE_S = 2 * 3600;

/**
 * Why a message is too old to take (a replay of a captured request), or null. A Timestamp ahead
 * of our clock is taken: it is signed, so only our clock can be behind.
 */
export function snsAgeProblem(m: Pick<SnsMessage, "Timestamp">, now: Date): string | null {
  const age = (now.getTime() - Date.parse(m.Timestamp)) / 1000;
  return age > SNS_MAX_AGE_S ? `Timestamp ${m.Timestamp} is ${Math.round(age)} s old (at most ${SNS_MAX_AGE_S} s, longer than SNS retries)` : null;
}

/** The string SNS signs for this message. */
export function snsStringToSign(m: SnsMessage): string {
  const fields: Array<keyof SnsMessage> =
    m.Type === "Notification"
      ? ["Message", "MessageId", ...(m.Subject !== undefined ? (["Subject"] as const) : []), "Timestamp", "TopicArn", "Type"]
      : ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"];
  return fields.map((f) => `${f}\n${m[f]}\n`).join("");
}

export function verifySnsSignature(m: SnsMessage, certificate: X509Certificate): boolean {
  const verifier = createVerify(m.SignatureVersion === "1" ? "RSA-SHA1" : "RSA-SHA256");
  verifier.update(snsStringToSign(m), "utf8");
  return verifier.verify(certificate.publicKey, Buffer.from(m.Signature, "base64"));
}

/**
 * Whether SNS could have sent us to this URL (a signing certificate, a subscription to confirm):
 * https on sns.<region>.amazonaws.com, or under SNS_CERT_URL_BASE when it is set.
 */
export function isSnsUrl(url: string, base: string | null): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (parsed.username !== "" || parsed.password !== "") return false;
  if (base !== null) return parsed.protocol === "https:" && (parsed.href === base || parsed.href.startsWith(base.endsWith("/") ? base : `${base}/`));
  return parsed.protocol === "https:" && parsed.port === "" && /^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$/.test(parsed.hostname);
}
