// Which Microsoft Graph permissions a source's grant holds, read from the token endpoint's `scope`
// answer that is stored with the tokens. Sending (#25) needs Mail.Send: a source authorized before
// mailgate asked for it can read but not send until someone signs in to it again.
import { GRAPH_READ_SCOPES } from "./graph-endpoints.ts";
import type { GraphTokens } from "./token-endpoint.ts";

export const SEND_SCOPE = "Mail.Send";

/** Microsoft writes a scope bare ("Mail.Send") or with Graph's resource ("https://graph.microsoft.com/Mail.Send"). */
const GRAPH_RESOURCE = /^https:\/\/graph\.microsoft\.com\//i;

/** The granted scope names, without the resource prefix, lowercased (scope names ignore case). */
export function grantedScopes(scope: string): Set<string> {
  return new Set(
    scope
      .split(/\s+/)
      .filter(Boolean)
      .map((s) => s.replace(GRAPH_RESOURCE, "").toLowerCase()),
  );
}

/**
 * True when the stored grant allows POST /me/sendMail. The outbox asks before trying, and holds
 * the mail of a source without it as waiting_for_authorization instead of sending it to a 403.
 */
export function canSend(tokens: Pick<GraphTokens, "scope"> | null): boolean {
  return tokens !== null && grantedScopes(tokens.scope).has(SEND_SCOPE.toLowerCase());
}

/**
 * The scopes a refresh asks for: the stored grant, never more. Microsoft refuses a refresh that
 * asks for a permission the user has not consented to (invalid_grant, AADSTS65001), so asking
 * for today's GRAPH_SCOPES would stop a source authorized before Mail.Send from reading at all.
 * Tokens stored without their scope were granted the reading scopes.
 */
export function refreshScope(granted: string): string {
  const scopes = granted.split(/\s+/).filter(Boolean);
  if (scopes.length === 0) return GRAPH_READ_SCOPES;
  return grantedScopes(granted).has("offline_access") ? scopes.join(" ") : ["offline_access", ...scopes].join(" ");
}
