// Whether a push's bearer token can be a Google-signed OIDC token at all, checked before Google's
// certificates are fetched: garbage is refused without a request to Google. This only reads the
// token; google-auth-library verifies the signature and the claims.
export type PushTokenShape = { ok: true; kid: string } | { ok: false; reason: string };

const BASE64URL = /^[A-Za-z0-9_-]+$/;

export function pushTokenShape(token: string): PushTokenShape {
  const parts = token.split(".");
  if (parts.length !== 3 || !parts.every((p) => BASE64URL.test(p))) {
    return { ok: false, reason: "the bearer token is not a JWT (three base64url parts)" };
  }
  const header = decodeJsonObject(parts[0]!);
  if (!header) return { ok: false, reason: "the token's header is not a JSON object" };
  // Google signs OIDC tokens with RS256 only; anything else (none, HS256, …) is not from Google.
  if (header.alg !== "RS256") return { ok: false, reason: `the token's alg is ${String(JSON.stringify(header.alg)).slice(0, 40)}, not "RS256"` };
  if (typeof header.kid !== "string" || header.kid === "") return { ok: false, reason: "the token's header names no signing key (kid)" };
  if (!decodeJsonObject(parts[1]!)) return { ok: false, reason: "the token's payload is not a JSON object" };
  return { ok: true, kid: header.kid };
}

function decodeJsonObject(part: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, "base64url").toString("utf8"));
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
