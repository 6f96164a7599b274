// The identity platform's token endpoint: redeem an authorization code (with the PKCE verifier),
// or a refresh token. Microsoft rotates refresh tokens: every answer carries the one to use next.
import { GRAPH_SCOPES, tokenUrl } from "./graph-endpoints.ts";

export type GraphTokens = {
  accessToken: string;
  refreshToken: string;
  /** ISO time the access token stops working. */
  expiresAt: string;
  scope: string;
};

/** The token endpoint said no: `error` is OAuth's code (invalid_grant, invalid_client, ...). */
export class TokenEndpointError extends Error {
  readonly error: string;
  readonly description: string;
  readonly status: number;

  constructor(error: string, description: string, status: number) {
    super(`Microsoft's token endpoint answered ${status} ${error}: ${description}`);
    this.name = "TokenEndpointError";
    this.error = error;
    this.description = description;
    this.status = status;
  }
}

export type AppCredentials = { loginUrl: string; tenantId: string; clientId: string; clientSecret: string };

export function redeemAuthorizationCode(
  app: AppCredentials & { redirectUri: string },
  grant: { code: string; codeVerifier: string },
  now: Date,
): Promise<GraphTokens> {
  return requestTokens(
    app,
    {
      grant_type: "authorization_code",
      code: grant.code,
      redirect_uri: app.redirectUri,
      code_verifier: grant.codeVerifier,
      scope: GRAPH_SCOPES,
    },
    now,
    null,
  );
}

/** `scope` is what the stored grant holds (granted-scopes.ts, refreshScope): a refresh cannot widen it. */
export function redeemRefreshToken(app: AppCredentials, refreshToken: string, scope: string, now: Date): Promise<GraphTokens> {
  return requestTokens(app, { grant_type: "refresh_token", refresh_token: refreshToken, scope }, now, refreshToken);
}

async function requestTokens(
  app: AppCredentials,
  params: Record<string, string>,
  now: Date,
  previousRefreshToken: string | null,
): Promise<GraphTokens> {
  let res: Response;
  try {
    res = await fetch(tokenUrl(app.loginUrl, app.tenantId), {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded", Accept: "application/json" },
      body: new URLSearchParams({ client_id: app.clientId, client_secret: app.clientSecret, ...params }).toString(),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (cause) {
    throw new Error(`Microsoft's token endpoint at ${app.loginUrl} cannot be reached; check MICROSOFT_LOGIN_URL and the network.`, {
      cause,
    });
  }
  const body = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  if (!res.ok) {
    throw new TokenEndpointError(
      typeof body.error === "string" ? body.error : `http_${res.status}`,
      typeof body.error_description === "string" ? firstLine(body.error_description) : res.statusText,
      res.status,
    );
  }
  const accessToken = body.access_token;
  const refreshToken = typeof body.refresh_token === "string" ? body.refresh_token : previousRefreshToken;
  if (typeof accessToken !== "string" || !refreshToken) {
    throw new TokenEndpointError(
      "incomplete_response",
      "the answer lacks an access or refresh token; make sure the app asks for offline_access",
      res.status,
    );
  }
  const expiresIn = Number(body.expires_in ?? 3600);
  return {
    accessToken,
    refreshToken,
    expiresAt: new Date(now.getTime() + (Number.isFinite(expiresIn) ? expiresIn : 3600) * 1000).toISOString(),
    // Microsoft always says what it granted; without that, assume what was asked for.
    scope: typeof body.scope === "string" ? body.scope : (params.scope ?? ""),
  };
}

// AADSTS descriptions carry trace and correlation ids on later lines: the first says what is wrong.
const firstLine = (s: string) => s.split(/\r?\n/)[0]!.trim();
