// The fake identity platform: /{tenant}/oauth2/v2.0/authorize (consent granted at once, redirect
// with code and state) and /{tenant}/oauth2/v2.0/token (authorization_code with PKCE S256, and
// refresh_token). Refresh tokens rotate strictly: a used one is dead, as a client must assume.
import { createHash, randomBytes } from "node:crypto";

export type AppRegistration = { tenantId: string; clientId: string; clientSecret: string };

type Code = { clientId: string; redirectUri: string; challenge: string; scope: string; expiresAt: number; used: boolean };

export type TokenAnswer = { status: number; body: Record<string, unknown> };

const GRANTED_SCOPE = "Mail.Read Mail.ReadWrite User.Read profile openid email";

export class FakeIdentity {
  readonly app: AppRegistration;
  private codes = new Map<string, Code>();
  private refreshTokens = new Map<string, { clientId: string }>();
  private accessTokens = new Map<string, number>();
  /** Every refresh token ever issued, in order (tests check rotation). */
  readonly issuedRefreshTokens: string[] = [];
  accessTokenSeconds = 3599;

  constructor(app: AppRegistration) {
    this.app = app;
  }

  /** GET /authorize: the user signs in and consents; answers the redirect (or an error page). */
  authorize(tenant: string, q: URLSearchParams): { status: number; location?: string; text?: string } {
    const problem =
      tenant !== this.app.tenantId
        ? `AADSTS90002: Tenant '${tenant}' not found.`
        : q.get("client_id") !== this.app.clientId
          ? `AADSTS700016: Application with identifier '${q.get("client_id")}' was not found in the directory.`
          : q.get("response_type") !== "code"
            ? "AADSTS900144: The request body must contain the following parameter: 'response_type=code'."
            : !q.get("redirect_uri")
              ? "AADSTS900144: redirect_uri is required."
              : q.get("code_challenge_method") !== "S256" || !q.get("code_challenge")
                ? "AADSTS501491: PKCE with code_challenge_method S256 is required by this fake."
                : !hasScopes(q.get("scope") ?? "", ["offline_access", "Mail.Read", "Mail.ReadWrite", "User.Read"])
                  ? `AADSTS65001: The scopes '${q.get("scope")}' lack offline_access, Mail.Read, Mail.ReadWrite or User.Read.`
                  : null;
    if (problem) return { status: 400, text: problem };
    const code = `0.A${randomBytes(32).toString("base64url")}`;
    this.codes.set(code, {
      clientId: q.get("client_id")!,
      redirectUri: q.get("redirect_uri")!,
      challenge: q.get("code_challenge")!,
      scope: q.get("scope")!,
      expiresAt: Date.now() + 10 * 60_000,
      used: false,
    });
    const location = new URL(q.get("redirect_uri")!);
    location.searchParams.set("code", code);
    if (q.get("state") !== null) location.searchParams.set("state", q.get("state")!);
    location.searchParams.set("session_state", randomBytes(8).toString("hex"));
    return { status: 302, location: location.toString() };
  }

  /** POST /token. */
  token(tenant: string, form: URLSearchParams): TokenAnswer {
    if (tenant !== this.app.tenantId) return error(400, "invalid_request", `AADSTS90002: Tenant '${tenant}' not found.`);
    if (form.get("client_id") !== this.app.clientId || form.get("client_secret") !== this.app.clientSecret) {
      return error(401, "invalid_client", "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.");
    }
    switch (form.get("grant_type")) {
      case "authorization_code":
        return this.redeemCode(form);
      case "refresh_token":
        return this.redeemRefresh(form);
      default:
        return error(400, "unsupported_grant_type", "AADSTS70003: The app requested an unsupported grant type.");
    }
  }

  /** Is this bearer token one we issued and still valid? */
  isValidAccessToken(token: string): boolean {
    const expiresAt = this.accessTokens.get(token);
    return expiresAt !== undefined && expiresAt > Date.now();
  }

  /** Access tokens stop working (the client must refresh). */
  expireAccessTokens(): void {
    this.accessTokens.clear();
  }

  /** The user revoked the grant (or an admin did): every refresh token is dead. */
  revokeGrants(): void {
    this.refreshTokens.clear();
    this.accessTokens.clear();
  }

  private redeemCode(form: URLSearchParams): TokenAnswer {
    const code = this.codes.get(form.get("code") ?? "");
    if (!code || code.used || code.expiresAt < Date.now()) {
      return error(400, "invalid_grant", "AADSTS70008: The provided authorization code or refresh token has expired or was already redeemed.");
    }
    code.used = true;
    if (form.get("redirect_uri") !== code.redirectUri) {
      return error(400, "invalid_grant", "AADSTS50148: The redirect_uri does not match the one used in the authorization request.");
    }
    const verifier = form.get("code_verifier") ?? "";
    if (createHash("sha256").update(verifier).digest("base64url") !== code.challenge) {
      return error(400, "invalid_grant", "AADSTS501481: The Code_Verifier does not match the code_challenge supplied in the authorization request.");
    }
    return this.issue(code.clientId);
  }

  private redeemRefresh(form: URLSearchParams): TokenAnswer {
    const presented = form.get("refresh_token") ?? "";
    if (!this.refreshTokens.delete(presented)) {
      return error(400, "invalid_grant", "AADSTS70000: The provided grant has expired due to it being revoked, a fresh auth token is needed.");
    }
    return this.issue(this.app.clientId);
  }

  private issue(_clientId: string): TokenAnswer {
    const accessToken = `eyJ0eXAiOiJKV1Qi.${randomBytes(24).toString("base64url")}`;
    const refreshToken = `0.AR${randomBytes(32).toString("base64url")}`;
    this.accessTokens.set(accessToken, Date.now() + this.accessTokenSeconds * 1000);
    this.refreshTokens.set(refreshToken, { clientId: this.app.clientId });
    this.issuedRefreshTokens.push(refreshToken);
    return {
      status: 200,
      body: {
        token_type: "Bearer",
        scope: GRANTED_SCOPE,
        expires_in: this.accessTokenSeconds,
        ext_expires_in: this.accessTokenSeconds,
        access_token: accessToken,
        refresh_token: refreshToken,
      },
    };
  }
}

function error(status: number, code: string, description: string): TokenAnswer {
  return {
    status,
    body: {
      error: code,
      error_description: `${description}\r\nTrace ID: ${randomBytes(8).toString("hex")}\r\nCorrelation ID: ${randomBytes(8).toString("hex")}\r\nTimestamp: ${new Date().toISOString()}`,
      error_codes: [Number(/AADSTS(\d+)/.exec(description)?.[1] ?? 0)],
      timestamp: new Date().toISOString(),
    },
  };
}

function hasScopes(scope: string, required: string[]): boolean {
  const granted = new Set(scope.split(/\s+/).map((s) => s.replace(/^https:\/\/graph\.microsoft\.com\//i, "").toLowerCase()));
  return required.every((r) => granted.has(r.toLowerCase()));
}
