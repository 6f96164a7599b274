// OAuth2 `state`: at least 128 random bits, bound to one source, used once, expiring after 10
// minutes; it carries the PKCE code verifier (sealed) to the callback.
import { createHash, randomBytes } from "node:crypto";
import { and, eq, gt, lt } from "drizzle-orm";
import type { Executor } from "../db/client.ts";
import { oauthStates } from "../db/schema.ts";
import type { SecretBox } from "../secrets/secret-box.ts";

const TTL_MS = 10 * 60 * 1000;

export type OAuthProvider = "google" | "microsoft";
export type PendingAuthorization = { state: string; codeVerifier: string; codeChallenge: string };

export async function beginAuthorization(
  executor: Executor,
  secrets: SecretBox,
  input: { sourceId: string; provider: OAuthProvider; now: Date },
): Promise<PendingAuthorization> {
  const state = randomBytes(32).toString("base64url");
  const codeVerifier = randomBytes(48).toString("base64url");
  const codeChallenge = createHash("sha256").update(codeVerifier).digest("base64url");
  await executor.delete(oauthStates).where(lt(oauthStates.expiresAt, input.now));
  await executor.insert(oauthStates).values({
    state,
    sourceId: input.sourceId,
    provider: input.provider,
    codeVerifier: secrets.seal(codeVerifier),
    expiresAt: new Date(input.now.getTime() + TTL_MS),
    createdAt: input.now,
  });
  return { state, codeVerifier, codeChallenge };
}

/** Takes a state once: a second callback with the same state finds nothing. */
export async function consumeAuthorization(
  executor: Executor,
  secrets: SecretBox,
  input: { state: string; provider: OAuthProvider; now: Date },
): Promise<{ sourceId: string; codeVerifier: string } | null> {
  const [row] = await executor
    .delete(oauthStates)
    .where(and(eq(oauthStates.state, input.state), eq(oauthStates.provider, input.provider), gt(oauthStates.expiresAt, input.now)))
    .returning();
  return row ? { sourceId: row.sourceId, codeVerifier: secrets.open(row.codeVerifier) } : null;
}
