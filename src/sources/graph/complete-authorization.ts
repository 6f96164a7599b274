// The end of the OAuth code flow (GET /admin/oauth/microsoft/callback): take the state once,
// redeem the code with its PKCE verifier, store the tokens sealed, then bring the source up:
// a subscription and a catch-up (unless it is manual). A re-authorization keeps the cursor, so the
// catch-up covers whatever arrived while the grant was broken.
import { requeueWaitingForSource } from "../../db/outbound-messages.ts";
import { eq } from "drizzle-orm";
import type { Context } from "../../context.ts";
import { mailSources } from "../../db/schema.ts";
import { consumeAuthorization } from "../oauth-state.ts";
import type { GraphConfig, GraphSecrets } from "../source-config.ts";
import { setSourceStatus } from "../source-status.ts";
import { listSubscriptions, recordCreationFailure, renewSubscription } from "../renew-subscriptions.ts";
import { parseGraphCursor } from "./delta-cursor.ts";
import { createGraphSubscription } from "./graph-subscription.ts";
import { writeTokens } from "./graph-tokens.ts";
import { releaseGraphWork, requestCatchUp } from "./graph-work-queue.ts";
import { collectsContinuously } from "./safety-net.ts";
import { redeemAuthorizationCode, TokenEndpointError } from "./token-endpoint.ts";

export type AuthorizationOutcome =
  | { kind: "connected"; sourceId: string; address: string; subscription: { ok: boolean; message?: string } | null }
  | { kind: "invalid_state" }
  | { kind: "denied"; sourceId: string; message: string }
  | { kind: "token_failed"; sourceId: string; message: string };

export async function completeGraphAuthorization(
  ctx: Context,
  query: { code?: string; state?: string; error?: string; errorDescription?: string },
): Promise<AuthorizationOutcome> {
  if (!query.state) return { kind: "invalid_state" };
  const pending = await consumeAuthorization(ctx.db, ctx.secrets, { state: query.state, provider: "microsoft", now: ctx.clock.now() });
  if (!pending) return { kind: "invalid_state" };
  const { sourceId } = pending;
  if (query.error || !query.code) {
    const message = `Microsoft sign-in was not completed (${query.error ?? "no code"}${query.errorDescription ? `: ${query.errorDescription}` : ""}); click Authorize to try again.`;
    return { kind: "denied", sourceId, message };
  }
  const [source] = await ctx.db.select().from(mailSources).where(eq(mailSources.id, sourceId));
  if (!source || !source.secrets) return { kind: "invalid_state" };
  const config = source.config as GraphConfig;
  const secrets = ctx.secrets.openJson<GraphSecrets>(source.secrets);
  let tokens;
  try {
    tokens = await redeemAuthorizationCode(
      { loginUrl: ctx.config.microsoft.loginUrl, tenantId: config.tenantId, clientId: config.clientId, clientSecret: secrets.clientSecret, redirectUri: config.redirectUri },
      { code: query.code, codeVerifier: pending.codeVerifier },
      ctx.clock.now(),
    );
  } catch (err) {
    const message =
      err instanceof TokenEndpointError
        ? `Microsoft refused the sign-in (${err.error}: ${err.description}); check the tenant id, client id, client secret and redirect URI of the app registration, then click Authorize again.`
        : `Microsoft's token endpoint failed: ${(err as Error).message}`;
    await setSourceStatus(ctx, sourceId, { status: "error", error: { code: "authorization_failed", message } });
    return { kind: "token_failed", sourceId, message };
  }

  const now = ctx.clock.now();
  await ctx.db.transaction(async (tx) => {
    await writeTokens(tx, ctx, sourceId, secrets, tokens);
    const cursor = parseGraphCursor(source.cursor);
    // First authorization: mail from now on is ticketed, not what is already in the Inbox, and no
    // resync reaches back before connectedAt. A re-authorization keeps both.
    if (!cursor.deltaLink && !cursor.nextLink && !cursor.watermark) {
      await tx.update(mailSources).set({ cursor: { watermark: now.toISOString() }, connectedAt: now }).where(eq(mailSources.id, sourceId));
    }
    await releaseGraphWork(tx, sourceId, now);
    // Mail that waited for this authorization (or for the Mail.Send permission) goes out now.
    await requeueWaitingForSource(tx, sourceId, now);
    // A manual source reads its mailbox on Process Now only.
    if (collectsContinuously(source.schedule)) await requestCatchUp(tx, sourceId, "authorized", now);
  });
  await setSourceStatus(ctx, sourceId, { status: "connected" });
  ctx.database.wake("graph_sync");
  ctx.database.wake("outbound");
  const subscription = collectsContinuously(source.schedule) ? await ensureSubscription(ctx, sourceId) : null;
  return { kind: "connected", sourceId, address: source.address, subscription };
}

/** Renews the source's subscription (re-creating it if needed), or creates its first one. */
async function ensureSubscription(ctx: Context, sourceId: string): Promise<{ ok: boolean; message?: string }> {
  const [existing] = (await listSubscriptions(ctx.db, { sourceId })).filter((s) => s.provider === "graph");
  if (existing) {
    const outcome = await renewSubscription(ctx, existing);
    return outcome.ok ? { ok: true } : { ok: false, message: outcome.error?.message };
  }
  const created = await createGraphSubscription(ctx, sourceId);
  if (created.ok) return { ok: true };
  await recordCreationFailure(ctx, sourceId, "graph", created.error);
  return { ok: false, message: created.error.message };
}
