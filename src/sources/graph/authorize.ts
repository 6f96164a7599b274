import type { Context } from "../../context.ts";
import type { SourceRecord } from "../../db/sources.ts";
import { unprocessable } from "../../errors.ts";
import { beginAuthorization } from "../oauth-state.ts";
import type { GraphConfig } from "../source-config.ts";
import { authorizationUrl, OAUTH_CALLBACK_PATH } from "./graph-endpoints.ts";

/** "Authorize" / "Re-authorize": returns Microsoft's consent URL for this source (code flow, PKCE, single-use state). */
export async function authorizeGraph(ctx: Context, source: SourceRecord): Promise<{ authorizationUrl: string }> {
  const config = source.config as Partial<GraphConfig>;
  if (!config.tenantId || !config.clientId || !config.redirectUri) {
    throw unprocessable(
      "graph_not_configured",
      "This Microsoft 365 source lacks tenantId, clientId or redirectUri: set them with PATCH /api/sources/:id before authorizing.",
    );
  }
  if (!config.redirectUri.endsWith(OAUTH_CALLBACK_PATH)) {
    ctx.log.warn({ sourceId: source.id, redirectUri: config.redirectUri }, `the redirect URI does not end in ${OAUTH_CALLBACK_PATH}`);
  }
  const pending = await beginAuthorization(ctx.db, ctx.secrets, { sourceId: source.id, provider: "microsoft", now: ctx.clock.now() });
  return {
    authorizationUrl: authorizationUrl({
      loginUrl: ctx.config.microsoft.loginUrl,
      tenantId: config.tenantId,
      clientId: config.clientId,
      redirectUri: config.redirectUri,
      state: pending.state,
      codeChallenge: pending.codeChallenge,
    }),
  };
}
