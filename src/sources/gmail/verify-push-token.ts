// Authenticates a Pub/Sub push: the OIDC token in Authorization is verified by google-auth-library
// (signature against the certs at GOOGLE_OAUTH_CERTS_URL, issuer, expiry, audience
// GMAIL_PUSH_AUDIENCE), then its claims must name the push subscription's service account.
import type { Config } from "../../config.ts";
import { createOAuthClient } from "./oauth-client.ts";
import { checkPushClaims } from "./push-claims.ts";

export type PushVerdict = { ok: true } | { ok: false; status: 401 | 503; reason: string };
export type PushVerifier = (authorization: string | undefined) => Promise<PushVerdict>;

export function createPushVerifier(config: Config): PushVerifier {
  // One client for the process: it caches Google's certs for as long as their Cache-Control allows.
  const client = createOAuthClient(config);
  const serviceAccount = config.google.pushServiceAccount;
  return async (authorization) => {
    if (!serviceAccount) {
      return {
        ok: false,
        status: 503,
        reason: "GMAIL_PUSH_SERVICE_ACCOUNT is not set: set it to the service account the push subscription authenticates as",
      };
    }
    const match = /^Bearer\s+(\S+)$/i.exec(authorization ?? "");
    if (!match) return { ok: false, status: 401, reason: "no bearer token: the push subscription must use authentication (OIDC token)" };
    try {
      const ticket = await client.verifyIdToken({ idToken: match[1]!, audience: config.google.pushAudience });
      const check = checkPushClaims(ticket.getPayload(), serviceAccount);
      return check.ok ? { ok: true } : { ok: false, status: 401, reason: check.reason };
    } catch (err) {
      // google-auth-library quotes the whole token in some messages: keep only the reason.
      const message = (err instanceof Error ? err.message : String(err)).split(/:\s*(?=ey|\{)/)[0]!.slice(0, 300);
      // Google's certs out of reach is not the sender's fault: Pub/Sub retries a 503.
      if (message.startsWith("Failed to retrieve verification certificates")) return { ok: false, status: 503, reason: message };
      return { ok: false, status: 401, reason: message };
    }
  };
}
