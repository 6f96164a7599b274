// A Gmail source's stored settings, opened: config in the clear, secrets unsealed.
import type { Context } from "../../context.ts";
import type { SourceRecord } from "../../db/sources.ts";
import type { GmailConfig, GmailSecrets } from "../source-config.ts";

export type GmailTokens = {
  access_token?: string | null;
  refresh_token?: string | null;
  expiry_date?: number | null;
  scope?: string;
  token_type?: string | null;
  id_token?: string | null;
};

export type OpenedGmailSource = { row: SourceRecord; config: GmailConfig; secrets: GmailSecrets & { tokens?: GmailTokens } };

export function openGmailSource(ctx: Context, row: SourceRecord): OpenedGmailSource {
  if (row.kind !== "gmail") throw new Error(`source ${row.id} is kind ${row.kind}, not gmail`);
  const config = row.config as GmailConfig;
  const secrets = row.secrets ? ctx.secrets.openJson<OpenedGmailSource["secrets"]>(row.secrets) : { clientSecret: "" };
  return { row, config: { ...config, postProcess: config.postProcess ?? {} }, secrets };
}

/** New tokens over stored ones: a refresh answer carries no refresh_token, and the old one stays valid. */
export function mergeTokens(stored: GmailTokens | undefined, fresh: GmailTokens): GmailTokens {
  const merged: GmailTokens = { ...(stored ?? {}), ...fresh };
  if (!fresh.refresh_token && stored?.refresh_token) merged.refresh_token = stored.refresh_token;
  return merged;
}
