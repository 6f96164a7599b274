// Test Connection's SMTP half, for imap and api sources with an SMTP block: connect, upgrade to
// TLS as the settings say, log in and say goodbye; the outcome as a value, never an exception.
import { describeSmtpFailure, type SmtpFailureCode } from "./describe-smtp-error.ts";
import { verifySmtp } from "./smtp-sender.ts";
import type { SmtpSettings } from "../smtp-settings.ts";

export const SMTP_TEST_TIMEOUT_MS = 15_000;

export type SmtpTestResult =
  | { ok: true; details: { server: string; security: SmtpSettings["config"]["security"]; user: string } }
  | { ok: false; error: { code: SmtpFailureCode; message: string } };

export async function testSmtpConnection(
  settings: Pick<SmtpSettings, "config" | "password">,
  opts: { ca?: string; timeoutMs?: number } = {},
): Promise<SmtpTestResult> {
  const { config } = settings;
  const failure = await verifySmtp({ config, password: settings.password, ca: opts.ca, timeoutMs: opts.timeoutMs ?? SMTP_TEST_TIMEOUT_MS });
  if (failure !== null) return { ok: false, error: describeSmtpFailure(failure, config) };
  return { ok: true, details: { server: `${config.host}:${config.port}`, security: config.security, user: config.user } };
}
