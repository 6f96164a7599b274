// An IMAP mail_sources row as the supervisor works with it: settings parsed, password opened.
import type { Context } from "../../context.ts";
import type { mailSources } from "../../db/schema.ts";
import type { ImapConfig, ImapSecrets, Schedule } from "../source-config.ts";

export type SourceRow = typeof mailSources.$inferSelect;

export type ImapSource = {
  id: string;
  name: string;
  address: string;
  companyId: string | null;
  createdAt: Date;
  config: ImapConfig;
  password: string;
  schedule: Schedule;
  /** mail_sources.status and last_error when the supervisor was started. */
  status: string;
  lastError: string | null;
};

export function imapConfigOf(row: Pick<SourceRow, "config">): ImapConfig {
  const config = (row.config ?? {}) as Partial<ImapConfig>;
  return {
    host: config.host ?? "",
    port: config.port ?? 993,
    security: config.security ?? "ssl",
    user: config.user ?? "",
    folder: config.folder || "INBOX",
    postProcess: config.postProcess ?? { action: "none" },
  };
}

/** Throws when the password cannot be opened (no secrets stored, or the key changed). */
export function imapSourceOf(ctx: Pick<Context, "secrets">, row: SourceRow): ImapSource {
  if (!row.secrets) throw new Error(`IMAP source ${row.id} has no stored password; set one with PATCH /api/sources/${row.id}.`);
  const secrets = ctx.secrets.openJson<ImapSecrets>(row.secrets);
  return {
    id: row.id,
    name: row.name,
    address: row.address,
    companyId: row.companyId,
    createdAt: row.createdAt,
    config: imapConfigOf(row),
    password: secrets.password,
    schedule: (row.schedule ?? { mode: "continuous" }) as Schedule,
    status: row.status,
    lastError: row.lastError,
  };
}
