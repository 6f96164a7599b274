// "Authorize" / "Re-authorize": the Google consent URL for this source, with offline access (a
// refresh token), a fresh consent (so Google sends that refresh token again), the Gmail scopes,
// a single-use state bound to the source and a PKCE S256 challenge.
import { CodeChallengeMethod } from "google-auth-library";
import type { Context } from "../../context.ts";
import type { SourceRecord } from "../../db/sources.ts";
import { beginAuthorization } from "../oauth-state.ts";
import { GMAIL_SCOPES } from "./gmail-constants.ts";
import { openGmailSource } from "./gmail-source.ts";
import { createOAuthClient } from "./oauth-client.ts";

export async function authorizeGmail(ctx: Context, source: SourceRecord): Promise<{ authorizationUrl: string }> {
  const { config } = openGmailSource(ctx, source);
  const pending = await beginAuthorization(ctx.db, ctx.secrets, { sourceId: source.id, provider: "google", now: ctx.clock.now() });
  const oauth = createOAuthClient(ctx.config, { clientId: config.clientId, redirectUri: config.redirectUri });
  const authorizationUrl = oauth.generateAuthUrl({
    access_type: "offline",
    prompt: "consent",
    scope: GMAIL_SCOPES,
    state: pending.state,
    code_challenge: pending.codeChallenge,
    code_challenge_method: CodeChallengeMethod.S256,
    login_hint: source.address,
  });
  return { authorizationUrl };
}
