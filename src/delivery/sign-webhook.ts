// Standard Webhooks signing (https://www.standardwebhooks.com), pure: the caller passes the time
// and the secrets, so retries are signed with the attempt's own timestamp and tests need no clock.
// Several secrets give several signatures: during a rotation a receiver that still holds the old
// secret and one that already has the new one both verify.
import { createHmac, randomBytes } from "node:crypto";

export type WebhookHeaders = Record<"webhook-id" | "webhook-timestamp" | "webhook-signature", string>;

const PREFIX = "whsec_";
const SECRET_BYTES = 32;

/** `secrets`: "whsec_…" texts, or their key bytes from `signingKey` (decoded once, for a sender). */
export function signWebhook(input: { id: string; timestamp: Date; body: string; secrets: (string | Buffer)[] }): WebhookHeaders {
  if (input.secrets.length === 0) throw new Error("signWebhook needs at least one secret");
  const seconds = Math.floor(input.timestamp.getTime() / 1000).toString();
  const signed = `${input.id}.${seconds}.${input.body}`;
  const signatures = input.secrets.map(
    (secret) => "v1," + createHmac("sha256", typeof secret === "string" ? signingKey(secret) : secret).update(signed).digest("base64"),
  );
  return { "webhook-id": input.id, "webhook-timestamp": seconds, "webhook-signature": signatures.join(" ") };
}

/** "whsec_" + base64 of 32 random bytes, the form the standardwebhooks libraries accept. */
export function generateWebhookSecret(random: (n: number) => Buffer = randomBytes): string {
  return PREFIX + random(SECRET_BYTES).toString("base64");
}

// The HMAC key is the decoded bytes, not the text: that is what every Standard Webhooks
// verifier does with a "whsec_" secret.
export function signingKey(secret: string): Buffer {
  const key = Buffer.from(secret.startsWith(PREFIX) ? secret.slice(PREFIX.length) : secret, "base64");
  if (key.length === 0) throw new Error("a webhook secret decoded to no bytes; expected whsec_ followed by base64");
  return key;
}
