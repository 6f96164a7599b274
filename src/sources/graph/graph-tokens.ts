// A source's Microsoft tokens: sealed in mail_sources.secrets.tokens; the access token also cached
// in memory until shortly before it expires. Refreshing happens under the source's row lock, so two
// workers (or two instances) never spend the same refresh token: Microsoft rotates it on every use.
import { eq } from "drizzle-orm";
import type { Context } from "../../context.ts";
import { mailSources } from "../../db/schema.ts";
import type { Executor } from "../../db/client.ts";
import type { GraphConfig, GraphSecrets } from "../source-config.ts";
import { setSourceStatus } from "../source-status.ts";
import { canSend, refreshScope } from "./granted-scopes.ts";
import { redeemRefreshToken, TokenEndpointError, type GraphTokens } from "./token-endpoint.ts";

/** Refresh this long before the access token expires, so no request carries a dying token. */
const REFRESH_EARLY_MS = 2 * 60_000;

/** The source has never been authorized: nothing to refresh. */
export class GraphNotAuthorizedError extends Error {
  readonly code = "not_authorized";
  constructor(sourceId: string) {
    super(`Microsoft 365 source ${sourceId} is not authorized yet: click Authorize (POST /api/sources/${sourceId}/authorize) and sign in.`);
    this.name = "GraphNotAuthorizedError";
  }
}

type Cached = { token: string; expiresAt: number };
const caches = new WeakMap<Context, { tokens: Map<string, Cached>; inflight: Map<string, Promise<string>> }>();

function stateOf(ctx: Context) {
  let state = caches.get(ctx);
  if (!state) caches.set(ctx, (state = { tokens: new Map(), inflight: new Map() }));
  return state;
}

/** A valid access token for the source, refreshed (and the new refresh token stored) when needed. */
export function graphAccessToken(ctx: Context, sourceId: string): Promise<string> {
  const state = stateOf(ctx);
  const hit = state.tokens.get(sourceId);
  if (hit && hit.expiresAt - REFRESH_EARLY_MS > ctx.clock.now().getTime()) return Promise.resolve(hit.token);
  const pending = state.inflight.get(sourceId);
  if (pending) return pending;
  const loading = loadOrRefresh(ctx, sourceId).finally(() => state.inflight.delete(sourceId));
  state.inflight.set(sourceId, loading);
  return loading;
}

/** Forget the cached access token (Graph answered 401, or new tokens were stored). */
export function forgetAccessToken(ctx: Context, sourceId: string): void {
  stateOf(ctx).tokens.delete(sourceId);
}

async function loadOrRefresh(ctx: Context, sourceId: string): Promise<string> {
  try {
    const tokens = await ctx.db.transaction(async (tx) => {
      const [row] = await tx
        .select({ config: mailSources.config, secrets: mailSources.secrets })
        .from(mailSources)
        .where(eq(mailSources.id, sourceId))
        .for("update");
      if (!row) throw new Error(`Mail source ${sourceId} no longer exists.`);
      const secrets = row.secrets ? ctx.secrets.openJson<GraphSecrets>(row.secrets) : null;
      const stored = readTokens(secrets?.tokens);
      if (!secrets || !stored) throw new GraphNotAuthorizedError(sourceId);
      const now = ctx.clock.now();
      if (Date.parse(stored.expiresAt) - REFRESH_EARLY_MS > now.getTime()) return stored;
      const config = row.config as GraphConfig;
      const fresh = await redeemRefreshToken(
        { loginUrl: ctx.config.microsoft.loginUrl, tenantId: config.tenantId, clientId: config.clientId, clientSecret: secrets.clientSecret },
        stored.refreshToken,
        refreshScope(stored.scope),
        now,
      );
      await writeTokens(tx, ctx, sourceId, secrets, fresh);
      return fresh;
    });
    stateOf(ctx).tokens.set(sourceId, { token: tokens.accessToken, expiresAt: Date.parse(tokens.expiresAt) });
    return tokens.accessToken;
  } catch (err) {
    if (err instanceof TokenEndpointError && (err.error === "invalid_grant" || err.error === "interaction_required")) {
      await setSourceStatus(ctx, sourceId, {
        status: "needs_reauth",
        error: {
          code: err.error,
          message: `Microsoft no longer accepts this mailbox's sign-in (${err.description}); click Authorize on the source and sign in again.`,
        },
      });
    }
    throw err;
  }
}

/** Stores tokens into the sealed secrets, keeping the client secret. */
export async function writeTokens(executor: Executor, ctx: Context, sourceId: string, secrets: GraphSecrets, tokens: GraphTokens) {
  await executor
    .update(mailSources)
    .set({ secrets: ctx.secrets.sealJson({ ...secrets, tokens }) })
    .where(eq(mailSources.id, sourceId));
  forgetAccessToken(ctx, sourceId);
}

export function readTokens(value: unknown): GraphTokens | null {
  if (!value || typeof value !== "object") return null;
  const t = value as Partial<GraphTokens>;
  if (typeof t.accessToken !== "string" || typeof t.refreshToken !== "string" || typeof t.expiresAt !== "string") return null;
  return { accessToken: t.accessToken, refreshToken: t.refreshToken, expiresAt: t.expiresAt, scope: t.scope ?? "" };
}

/** True when the source holds tokens (it was authorized at least once). */
export function hasGraphTokens(ctx: Context, secrets: Buffer | null): boolean {
  return storedTokens(ctx, secrets) !== null;
}

/** True when the source's stored grant allows sending (it holds Mail.Send): see canSend. */
export function graphSourceCanSend(ctx: Context, secrets: Buffer | null): boolean {
  return canSend(storedTokens(ctx, secrets));
}

function storedTokens(ctx: Context, secrets: Buffer | null): GraphTokens | null {
  if (!secrets) return null;
  try {
    return readTokens(ctx.secrets.openJson<GraphSecrets>(secrets).tokens);
  } catch {
    return null;
  }
}
