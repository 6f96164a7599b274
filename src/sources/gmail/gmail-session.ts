// An authorized Gmail API client for one source: googleapis' gmail v1 on the configured root URL,
// with an OAuth2Client that refreshes the access token when it expires and hands every new token
// to the store. `flush()` waits until those writes are done.
// Only the Gmail API out of googleapis: its index loads every Google API at start.
import { gmail as gmailApi, type gmail_v1 } from "googleapis/build/src/apis/gmail/index.js";
import type { OAuth2Client } from "google-auth-library";
import type { Context } from "../../context.ts";
import type { SourceRecord } from "../../db/sources.ts";
import { openGmailSource, type GmailTokens, type OpenedGmailSource } from "./gmail-source.ts";
import { createOAuthClient } from "./oauth-client.ts";
import { saveTokens } from "./token-store.ts";

export type GmailSession = {
  source: OpenedGmailSource;
  gmail: gmail_v1.Gmail;
  oauth: OAuth2Client;
  flush(): Promise<void>;
};

export class NotAuthorizedError extends Error {
  constructor(sourceId: string) {
    super(`Gmail source ${sourceId} has not been authorized yet: click Authorize on the source and sign in to Google.`);
    this.name = "NotAuthorizedError";
  }
}

export function openGmailSession(ctx: Context, row: SourceRecord, opts: { requireTokens?: boolean } = {}): GmailSession {
  const source = openGmailSource(ctx, row);
  const oauth = createOAuthClient(ctx.config, {
    clientId: source.config.clientId,
    clientSecret: source.secrets.clientSecret,
    redirectUri: source.config.redirectUri,
  });
  const tokens = source.secrets.tokens;
  if (opts.requireTokens !== false && !tokens?.refresh_token && !tokens?.access_token) throw new NotAuthorizedError(row.id);
  if (tokens) oauth.setCredentials(tokens);
  let pending: Promise<void> = Promise.resolve();
  oauth.on("tokens", (fresh: GmailTokens) => {
    pending = pending
      .then(() => saveTokens(ctx, row.id, fresh))
      .catch((err) => ctx.log.error({ err, sourceId: row.id }, "storing refreshed Gmail tokens failed; the next start refreshes again"));
  });
  // Node's own fetch: gaxios otherwise loads node-fetch, which costs more CPU per call (bench/README.md).
  const gmail = gmailApi({ version: "v1", auth: oauth, rootUrl: ctx.config.google.gmailApiRootUrl, fetchImplementation: fetch });
  return { source, gmail, oauth, flush: () => pending };
}
