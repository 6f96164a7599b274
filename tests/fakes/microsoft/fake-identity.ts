// The fake identity platform: /{tenant}/oauth2/v2.0/authorize (consent granted at once, redirect
// with code and state) and /{tenant}/oauth2/v2.0/token (authorization_code with PKCE S256, and
// refresh_token). Refresh tokens rotate strictly: a used one is dead, as a client must assume.
// The user consents to exactly the scopes asked for; tokens carry that grant, a refresh cannot
// widen it (AADSTS65001, as Microsoft answers), and Graph checks it (Mail.Send on sendMail).
// Every code and token belongs to the user who signed in, as Graph's /me resolves it.
import { createHash, randomBytes } from "node:crypto";

export type AppRegistration = { tenantId: string; clientId: string; clientSecret: string };

type Code = { clientId: string; redirectUri: string; challenge: string; scope: string; expiresAt: number; used: boolean; userId: string };

export type TokenAnswer = { status: number; body: Record<string, unknown> };

/** Scopes of the sign-in itself, always consented and not Graph permissions. */
const OIDC_SCOPES = new Set(["offline_access", "openid", "profile", "email"]);

export class FakeIdentity {
  readonly app: AppRegistration;
  private codes = new Map<string, Code>();
  /** Each refresh token's grant: the Graph permissions the user consented to. */
  private refreshTokens = new Map<string, { clientId: string; grant: string[]; userId: string }>();
  private accessTokens = new Map<string, { expiresAt: number; scopes: string[]; userId: string }>();
  /** Every refresh token ever issued, in order (tests check rotation). */
  readonly issuedRefreshTokens: string[] = [];
  accessTokenSeconds = 3599;

  constructor(app: AppRegistration) {
    this.app = app;
  }

  /** GET /authorize: the user `userId` signs in and consents; answers the redirect (or an error page). */
  authorize(tenant: string, q: URLSearchParams, userId: string): { status: number; location?: string; text?: string } {
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
      userId,
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
    const issued = this.accessTokens.get(token);
    return issued !== undefined && issued.expiresAt > Date.now();
  }

  /** The id of the user an access token was issued to. */
  userOf(token: string): string | undefined {
    return this.accessTokens.get(token)?.userId;
  }

  /** Does this (valid) access token carry the Graph permission `scope`? */
  accessTokenHasScope(token: string, scope: string): boolean {
    return hasScopes((this.accessTokens.get(token)?.scopes ?? []).join(" "), [scope]);
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
    const grant = graphScopes(code.scope);
    return this.issue(grant, grant, code.userId);
  }

  private redeemRefresh(form: URLSearchParams): TokenAnswer {
    const presented = form.get("refresh_token") ?? "";
    const held = this.refreshTokens.get(presented);
    if (!held) {
      return error(400, "invalid_grant", "AADSTS70000: The provided grant has expired due to it being revoked, a fresh auth token is needed.");
    }
    const asked = form.get("scope") === null ? held.grant : graphScopes(form.get("scope")!);
    if (!hasScopes(held.grant.join(" "), asked)) {
      return error(
        400,
        "invalid_grant",
        `AADSTS65001: The user or administrator has not consented to use the application with ID '${this.app.clientId}'. Send an interactive authorization request for this user and resource.`,
      );
    }
    this.refreshTokens.delete(presented);
    return this.issue(held.grant, asked, held.userId);
  }

  /** Tokens for `grant` (what the new refresh token holds); the access token carries `scopes`. */
  private issue(grant: string[], scopes: string[], userId: string): TokenAnswer {
    const accessToken = `eyJ0eXAiOiJKV1Qi.${randomBytes(24).toString("base64url")}`;
    const refreshToken = `0.AR${randomBytes(32).toString("base64url")}`;
    this.accessTokens.set(accessToken, { expiresAt: Date.now() + this.accessTokenSeconds * 1000, scopes, userId });
    this.refreshTokens.set(refreshToken, { clientId: this.app.clientId, grant, userId });
    this.issuedRefreshTokens.push(refreshToken);
    return {
      status: 200,
      body: {
        token_type: "Bearer",
        scope: [...scopes, "profile", "openid", "email"].join(" "),
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

/** The Graph permissions among `scope`, without the resource prefix. */
function graphScopes(scope: string): string[] {
  return scope
    .split(/\s+/)
    .filter(Boolean)
    .map((s) => s.replace(/^https:\/\/graph\.microsoft\.com\//i, ""))
    .filter((s) => !OIDC_SCOPES.has(s.toLowerCase()));
}

function hasScopes(scope: string, required: string[]): boolean {
  const granted = new Set(scope.split(/\s+/).map((s) => s.replace(/^https:\/\/graph\.microsoft\.com\//i, "").toLowerCase()));
  return required.every((r) => granted.has(r.toLowerCase()));
}
