// PLACEHOLDER until the smtp block lands (helper B): reads config.smtp and secrets.smtpPassword.
import type { Context } from "../context.ts";
import type { SourceRecord } from "../db/sources.ts";
import type { SmtpConfig } from "./imap/smtp-sender.ts";

export type SmtpSettings = { config: SmtpConfig; password: string; saveToSent: boolean; sentFolder: string | null };

export function smtpSettingsOf(ctx: Context, source: SourceRecord): SmtpSettings | null {
  const block = (source.config as { smtp?: SmtpConfig & { saveToSent?: boolean; sentFolder?: string } }).smtp;
  if (!block) return null;
  const secrets = source.secrets ? ctx.secrets.openJson<{ smtpPassword?: string }>(source.secrets) : {};
  return { config: { host: block.host, port: block.port, security: block.security, user: block.user }, password: secrets.smtpPassword ?? "", saveToSent: block.saveToSent ?? false, sentFolder: block.sentFolder ?? null };
}
