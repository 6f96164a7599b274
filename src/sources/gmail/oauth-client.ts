// google-auth-library's OAuth2Client, pointed at the configured Google endpoints (the fakes in tests).
import { OAuth2Client } from "google-auth-library";
import type { Config } from "../../config.ts";

export function createOAuthClient(config: Config, client: { clientId?: string; clientSecret?: string; redirectUri?: string } = {}): OAuth2Client {
  return new OAuth2Client({
    clientId: client.clientId,
    clientSecret: client.clientSecret,
    redirectUri: client.redirectUri,
    // A token Google revoked before its expiry answers 401: refresh once and retry, do not give up.
    forceRefreshOnFailure: true,
    endpoints: {
      oauth2AuthBaseUrl: config.google.authUrl,
      oauth2TokenUrl: config.google.tokenUrl,
      oauth2FederatedSignonPemCertsUrl: config.google.certsUrl,
    },
  });
}
