// The SMTP block of an imap or api source: where it is stored and what sending needs from it.
//
// Stored: its settings under `smtp` in mail_sources.config, beside the kind's own settings; its
// password as `smtpPassword` in the sealed secrets, beside the IMAP password. Gmail and Microsoft
// 365 sources never have one: they send through their provider's API.
import type { SmtpConfig } from "./imap/smtp-sender.ts";
import type { SourceKind } from "./source-config.ts";

export const SMTP_KINDS = ["imap", "api", "smtp", "inbound-webhook"] as const satisfies readonly SourceKind[];
export type SmtpKind = (typeof SMTP_KINDS)[number];
export const canHaveSmtp = (kind: SourceKind): kind is SmtpKind => (SMTP_KINDS as readonly string[]).includes(kind);

/** The key of the SMTP password in the sealed secrets (the block's field is `password`). */
export const SMTP_SECRET_FIELD = "smtpPassword";
/** The key of the SMTP settings in mail_sources.config. */
const CONFIG_KEY = "smtp";

/** What mail_sources.config holds under `smtp`. */
export type StoredSmtp = SmtpConfig & {
  saveToSent: boolean;
  /** Unset: the folder the server marks \Sent (RFC 6154), else "Sent". */
  sentFolder?: string;
};

/** What the outbox needs to send through a source's SMTP server (and to save the copy). */
export type SmtpSettings = {
  config: SmtpConfig;
  password: string;
  /** Always false on an api source: it has no mailbox. */
  saveToSent: boolean;
  sentFolder: string | undefined;
};

export function storedSmtpOf(config: Record<string, unknown>): StoredSmtp | null {
  const smtp = config[CONFIG_KEY];
  return smtp !== null && typeof smtp === "object" ? (smtp as StoredSmtp) : null;
}

/** The kind's own settings: the config without the SMTP block. */
export function kindConfigOf(config: Record<string, unknown>): Record<string, unknown> {
  const { [CONFIG_KEY]: _smtp, ...kindConfig } = config;
  return kindConfig;
}

/** The config column with the SMTP block set, or removed when null. */
export function withSmtp(config: Record<string, unknown>, smtp: StoredSmtp | null): Record<string, unknown> {
  return smtp === null ? kindConfigOf(config) : { ...kindConfigOf(config), [CONFIG_KEY]: smtp };
}

export const hasSmtpBlock = (source: { kind: string; config: unknown }): boolean =>
  canHaveSmtp(source.kind as SourceKind) && storedSmtpOf((source.config ?? {}) as Record<string, unknown>) !== null;

/**
 * How to send through this source's SMTP server, from its row and its opened secrets; null when
 * it has no SMTP block. Throws when the block is there but its password is not (the secrets
 * could not be opened): the API never stores one without the other.
 */
export function smtpSettingsOf(
  source: { id: string; kind: string; config: unknown },
  secrets: Record<string, unknown>,
): SmtpSettings | null {
  if (!hasSmtpBlock(source)) return null;
  const smtp = storedSmtpOf(source.config as Record<string, unknown>)!;
  const password = secrets[SMTP_SECRET_FIELD];
  if (typeof password !== "string" || password === "") {
    throw new Error(`Mail source ${source.id} has an SMTP block but no stored SMTP password; set smtp.password with PATCH /api/sources/${source.id}.`);
  }
  return {
    config: { host: smtp.host, port: smtp.port, security: smtp.security, user: smtp.user },
    password,
    saveToSent: source.kind === "imap" && smtp.saveToSent === true,
    sentFolder: smtp.sentFolder,
  };
}
