// Google's OAuth 2.0 server, as far as mailgate uses it: the consent redirect (with PKCE S256),
// the token endpoint (authorization_code and refresh_token grants, invalid_grant when revoked),
// access tokens the Gmail fake accepts, and an RSA key that signs Pub/Sub OIDC push tokens,
// published as PEM at the certs endpoint. It knows several users: the one who consents is the
// account chosen (`authuser`), else the `login_hint` if it is a known user, else the first one;
// every code and token then belongs to that user.
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from "node:crypto";

export type OAuthClientRegistration = { clientId: string; clientSecret: string; redirectUris: string[] };

type Grant = { clientId: string; email: string; scope: string };
type PendingCode = Grant & { redirectUri: string; codeChallenge: string | null; codeChallengeMethod: string | null };
type AccessToken = Grant & { expiresAt: number };

export type TokenAnswer = { status: number; body: Record<string, unknown> };

export type SignPushTokenOptions = {
  audience: string;
  email: string;
  emailVerified?: boolean;
  /** Seconds from now; negative for an already expired token. Default 3600. */
  expiresIn?: number;
  issuer?: string;
  /** Sign with a key the certs endpoint does not publish (a forgery). */
  forged?: boolean;
  /** The header's kid (default: the published key's). */
  kid?: string;
};

export class FakeOAuth {
  /** The first user: who consents when the authorization URL names no known one. */
  readonly email: string;
  /** Every user who can sign in (the fake Google's mailboxes). */
  readonly users = new Set<string>();
  readonly clients = new Map<string, OAuthClientRegistration>();
  private readonly codes = new Map<string, PendingCode>();
  private readonly refreshTokens = new Map<string, Grant & { revoked: boolean }>();
  private readonly accessTokens = new Map<string, AccessToken>();
  private signingKey = generateKeyPairSync("rsa", { modulusLength: 2048 });
  private readonly forgeryKey = generateKeyPairSync("rsa", { modulusLength: 2048 });
  keyId = randomBytes(20).toString("hex");
  tokenRequests: { grantType: string; ok: boolean }[] = [];
  accessTokenTtlSeconds = 3599;

  constructor(email: string) {
    this.email = email;
    this.users.add(email);
  }

  register(client: OAuthClientRegistration): void {
    this.clients.set(client.clientId, client);
  }

  /** GET /o/oauth2/v2/auth: the user consents; returns the redirect Location (or an error answer). */
  authorize(params: URLSearchParams): { location: string } | { status: number; text: string } {
    const client = this.clients.get(params.get("client_id") ?? "");
    if (!client) return { status: 401, text: "invalid_client: The OAuth client was not found." };
    const redirectUri = params.get("redirect_uri") ?? "";
    if (!client.redirectUris.includes(redirectUri)) return { status: 400, text: "redirect_uri_mismatch" };
    if (params.get("response_type") !== "code") return { status: 400, text: "unsupported_response_type" };
    // Google's account chooser: an explicit account must exist; a hint only helps pick one.
    const chosen = params.get("authuser");
    if (chosen !== null && !this.users.has(chosen)) return { status: 400, text: `No signed-in account ${chosen}` };
    const hint = params.get("login_hint");
    const email = chosen ?? (hint !== null && this.users.has(hint) ? hint : this.email);
    const code = "4/" + randomBytes(24).toString("base64url");
    this.codes.set(code, {
      clientId: client.clientId,
      email,
      scope: params.get("scope") ?? "",
      redirectUri,
      codeChallenge: params.get("code_challenge"),
      codeChallengeMethod: params.get("code_challenge_method"),
    });
    const target = new URL(redirectUri);
    target.searchParams.set("code", code);
    target.searchParams.set("scope", params.get("scope") ?? "");
    const state = params.get("state");
    if (state !== null) target.searchParams.set("state", state);
    return { location: target.toString() };
  }

  /** POST /token (application/x-www-form-urlencoded). */
  token(form: URLSearchParams): TokenAnswer {
    const grantType = form.get("grant_type") ?? "";
    const answer = this.grant(grantType, form);
    this.tokenRequests.push({ grantType, ok: answer.status === 200 });
    return answer;
  }

  private grant(grantType: string, form: URLSearchParams): TokenAnswer {
    const client = this.clients.get(form.get("client_id") ?? "");
    if (!client || client.clientSecret !== form.get("client_secret")) {
      return { status: 401, body: { error: "invalid_client", error_description: "The OAuth client was not found." } };
    }
    if (grantType === "authorization_code") {
      const code = this.codes.get(form.get("code") ?? "");
      this.codes.delete(form.get("code") ?? "");
      if (!code || code.clientId !== client.clientId) return invalidGrant("Malformed auth code.");
      if (code.redirectUri !== form.get("redirect_uri")) return { status: 400, body: { error: "redirect_uri_mismatch", error_description: "Bad Request" } };
      if (code.codeChallenge !== null) {
        const verifier = form.get("code_verifier") ?? "";
        const expected = code.codeChallengeMethod === "S256" ? createHash("sha256").update(verifier).digest("base64url") : verifier;
        if (expected !== code.codeChallenge) return invalidGrant("Invalid code verifier.");
      }
      const refresh = "1//" + randomBytes(32).toString("base64url");
      this.refreshTokens.set(refresh, { clientId: client.clientId, email: code.email, scope: code.scope, revoked: false });
      return { status: 200, body: { ...this.issueAccess(code), refresh_token: refresh } };
    }
    if (grantType === "refresh_token") {
      const grant = this.refreshTokens.get(form.get("refresh_token") ?? "");
      if (!grant || grant.revoked || grant.clientId !== client.clientId) return invalidGrant("Token has been expired or revoked.");
      return { status: 200, body: this.issueAccess(grant) };
    }
    return { status: 400, body: { error: "unsupported_grant_type", error_description: `Invalid grant_type: ${grantType}` } };
  }

  private issueAccess(grant: Grant): Record<string, unknown> {
    const token = "ya29." + randomBytes(32).toString("base64url");
    this.accessTokens.set(token, { ...grant, expiresAt: Date.now() + this.accessTokenTtlSeconds * 1000 });
    return { access_token: token, expires_in: this.accessTokenTtlSeconds, scope: grant.scope, token_type: "Bearer" };
  }

  /** The grant behind a bearer token, or null (unknown or expired: Google answers 401). */
  authenticate(authorization: string | undefined): Grant | null {
    const token = /^Bearer (.+)$/.exec(authorization ?? "")?.[1];
    const grant = token ? this.accessTokens.get(token) : undefined;
    return grant && grant.expiresAt > Date.now() ? grant : null;
  }

  /** Every access token issued so far stops working (as when they expire); refresh tokens still work. */
  expireAccessTokens(): void {
    for (const token of this.accessTokens.values()) token.expiresAt = 0;
  }

  /** The user revokes mailgate's access: refresh tokens answer invalid_grant, access tokens 401. */
  revokeAll(): void {
    for (const grant of this.refreshTokens.values()) grant.revoked = true;
    this.expireAccessTokens();
  }

  /** Google rotates its signing key: tokens are signed with a new key under a new kid, the only one the certs endpoint publishes. */
  rotateSigningKey(): void {
    this.signingKey = generateKeyPairSync("rsa", { modulusLength: 2048 });
    this.keyId = randomBytes(20).toString("hex");
  }

  /** GET /oauth2/v1/certs: {kid: PEM}. */
  certs(): Record<string, string> {
    return { [this.keyId]: this.signingKey.publicKey.export({ type: "spki", format: "pem" }).toString() };
  }

  /** An OIDC token as Pub/Sub push sends it in Authorization: Bearer. */
  signPushToken(opts: SignPushTokenOptions): string {
    const now = Math.floor(Date.now() / 1000);
    const expiresIn = opts.expiresIn ?? 3600;
    const header = { alg: "RS256", kid: opts.kid ?? this.keyId, typ: "JWT" };
    const payload = {
      aud: opts.audience,
      azp: "113774264463038321964",
      email: opts.email,
      email_verified: opts.emailVerified ?? true,
      exp: now + expiresIn,
      iat: now + expiresIn - 3600,
      iss: opts.issuer ?? "https://accounts.google.com",
      sub: "113774264463038321964",
    };
    const signed = `${b64(header)}.${b64(payload)}`;
    const key: KeyObject = opts.forged ? this.forgeryKey.privateKey : this.signingKey.privateKey;
    return `${signed}.${sign("RSA-SHA256", Buffer.from(signed), key).toString("base64url")}`;
  }
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
const invalidGrant = (description: string): TokenAnswer => ({ status: 400, body: { error: "invalid_grant", error_description: description } });
