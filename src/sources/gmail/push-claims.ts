// The checks on a Pub/Sub push token that google-auth-library's verifyIdToken leaves to the caller:
// the signature, issuer, audience and expiry are verified there; who signed it is checked here.
export type PushClaims = { email?: unknown; email_verified?: unknown };

export type PushClaimsCheck = { ok: true } | { ok: false; reason: string };

export function checkPushClaims(claims: PushClaims | undefined, expectedServiceAccount: string): PushClaimsCheck {
  if (!claims) return { ok: false, reason: "the token carries no claims" };
  if (typeof claims.email !== "string" || claims.email.toLowerCase() !== expectedServiceAccount.toLowerCase()) {
    return {
      ok: false,
      reason: `the token was issued to ${String(claims.email)}, not to the push subscription's service account ${expectedServiceAccount} (GMAIL_PUSH_SERVICE_ACCOUNT)`,
    };
  }
  // Google sends a boolean; some JWT tooling writes the string "true".
  if (claims.email_verified !== true && claims.email_verified !== "true") {
    return { ok: false, reason: "the token's email is not verified (email_verified is not true)" };
  }
  return { ok: true };
}
