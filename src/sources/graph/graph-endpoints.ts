// Where Microsoft lives for this instance: the Graph API root (GRAPH_API_URL) and the identity
// platform (MICROSOFT_LOGIN_URL). Sovereign clouds change both; so do the tests, to reach the fake.
export const GRAPH_SCOPES = "offline_access Mail.Read Mail.ReadWrite Mail.Send User.Read";

/** What sources authorized before sending existed (#25) were granted: enough to read, not to send. */
export const GRAPH_READ_SCOPES = "offline_access Mail.Read Mail.ReadWrite User.Read";

/** The Inbox's messages, as Graph names the resource of a subscription and of the delta query. */
export const INBOX_MESSAGES = "me/mailFolders('Inbox')/messages";

/** Asks Graph for ids that survive a move between folders, in responses and in notifications. */
export const IMMUTABLE_ID_PREFERENCE = 'IdType="ImmutableId"';

export type GraphApiRoot = {
  /** What the Graph client calls `baseUrl`: the origin (and any path prefix) before the version. */
  baseUrl: string;
  /** What the Graph client calls `defaultVersion`, e.g. "v1.0". */
  version: string;
  /** The host name the client may send the bearer token to (its `customHosts`), without the port. */
  host: string;
};

/** "https://graph.microsoft.com/v1.0" → baseUrl "https://graph.microsoft.com", version "v1.0". */
export function splitGraphApiUrl(graphApiUrl: string): GraphApiRoot {
  const url = new URL(graphApiUrl);
  const segments = url.pathname.split("/").filter(Boolean);
  const last = segments.at(-1);
  const hasVersion = last !== undefined && /^(v\d+(\.\d+)?|beta)$/i.test(last);
  const prefix = (hasVersion ? segments.slice(0, -1) : segments).join("/");
  return {
    baseUrl: `${url.protocol}//${url.host}${prefix ? `/${prefix}` : ""}`,
    version: hasVersion ? last : "v1.0",
    host: url.hostname.replace(/^\[|\]$/g, ""),
  };
}

export type AuthorizationRequest = {
  loginUrl: string;
  tenantId: string;
  clientId: string;
  redirectUri: string;
  state: string;
  codeChallenge: string;
};

/** The consent page of the authorization-code flow, with PKCE (S256). */
export function authorizationUrl(req: AuthorizationRequest): string {
  const url = new URL(`${req.loginUrl}/${encodeURIComponent(req.tenantId)}/oauth2/v2.0/authorize`);
  url.search = new URLSearchParams({
    client_id: req.clientId,
    response_type: "code",
    redirect_uri: req.redirectUri,
    response_mode: "query",
    scope: GRAPH_SCOPES,
    state: req.state,
    code_challenge: req.codeChallenge,
    code_challenge_method: "S256",
    // Without it, a browser already signed in to another account would silently authorize that one.
    prompt: "select_account",
  }).toString();
  return url.toString();
}

export const tokenUrl = (loginUrl: string, tenantId: string) =>
  `${loginUrl}/${encodeURIComponent(tenantId)}/oauth2/v2.0/token`;

/** The two endpoints Graph calls: change notifications and lifecycle events. */
export function pushUrls(publicUrl: string): { notificationUrl: string; lifecycleNotificationUrl: string } {
  return { notificationUrl: `${publicUrl}/push/graph`, lifecycleNotificationUrl: `${publicUrl}/push/graph/lifecycle` };
}

/** Why Graph could not deliver to PUBLIC_URL, or null: Graph only calls https endpoints. */
export function pushEndpointProblem(publicUrl: string): string | null {
  if (!publicUrl.startsWith("https://")) {
    return `PUBLIC_URL is ${publicUrl}, but Microsoft Graph only delivers notifications over https: set PUBLIC_URL to the https address where Microsoft can reach mailgate.`;
  }
  return null;
}

export const OAUTH_CALLBACK_PATH = "/admin/oauth/microsoft/callback";
