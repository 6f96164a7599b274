// "Test Connection": try a source's settings against its provider and answer with a value, never
// an exception: {ok: true, details} or {ok: false, error: {code, message}}. A source with an SMTP
// block is tested both ways at once, and `checks` tells each half's own result, so the user sees
// which one failed; the top-level answer is ok only when both are.
import type { Context } from "../context.ts";
import type { SourceRecord } from "../db/sources.ts";
import type { SourceKind } from "./source-config.ts";
import { testGmailConnection } from "./gmail/test-connection.ts";
import { testGraphConnection } from "./graph/test-connection.ts";
import { testImapConnection } from "./imap/test-connection.ts";
import { testSmtpConnection } from "./imap/test-smtp-connection.ts";
import { hasSmtpBlock, smtpSettingsOf } from "./smtp-settings.ts";
import { storedWebhookOf, webhookPath } from "./inbound-webhook/webhook-settings.ts";
import { anyListenerPresent } from "./smtp/listener-presence.ts";

export type CheckResult = { ok: true; details: Record<string, unknown> } | { ok: false; error: { code: string; message: string } };

export type ConnectionTestResult = CheckResult & {
  /** Only for a source with an SMTP block: the mailbox's check (imap sources) and the SMTP login's. */
  checks?: { imap?: CheckResult; smtp: CheckResult };
};

type Tester = (ctx: Context, source: SourceRecord) => Promise<CheckResult>;

export async function testConnection(ctx: Context, source: SourceRecord): Promise<ConnectionTestResult> {
  if (!hasSmtpBlock(source)) return testIncoming(ctx, source);
  const [incoming, smtp] = await Promise.all([testIncoming(ctx, source), guarded(ctx, source, testSmtp)]);
  const checks = source.kind === "imap" ? { imap: incoming, smtp } : { smtp };
  if (!incoming.ok) return { ok: false, error: incoming.error, checks };
  if (!smtp.ok) return { ok: false, error: smtp.error, checks };
  return { ok: true, details: { ...incoming.details, smtp: smtp.details }, checks };
}

function testIncoming(ctx: Context, source: SourceRecord): Promise<CheckResult> {
  const kind = source.kind as SourceKind;
  switch (kind) {
    case "api":
      return Promise.resolve({ ok: true, details: { kind: "api" } });
    case "smtp":
      return guarded(ctx, source, testListener);
    case "inbound-webhook":
      return Promise.resolve(testWebhook(ctx, source));
    case "imap":
      return guarded(ctx, source, testImapConnection);
    case "gmail":
      return guarded(ctx, source, testGmailConnection);
    case "graph":
      return guarded(ctx, source, testGraphConnection);
  }
}

/**
 * An smtp source has nothing to connect to: it can receive when this instance's listener is
 * configured, or another instance's is running (this one may serve the API alone).
 */
const testListener: Tester = async (ctx) => {
  const listener = ctx.config.smtpListener;
  if (listener !== null) return { ok: true, details: { kind: "smtp", listen: `${listener.host}:${listener.port}` } };
  if (await anyListenerPresent(ctx)) return { ok: true, details: { kind: "smtp", listen: "another instance" } };
  return { ok: false, error: { code: "listener_off", message: "The SMTP listener is off: set SMTP_LISTEN (e.g. 0.0.0.0:25) on the instances with the sources role." } };
};

/** An inbound-webhook source is posted to: it can tell the URL to give the mail service, nothing more. */
function testWebhook(ctx: Context, source: SourceRecord): CheckResult {
  const provider = storedWebhookOf((source.config ?? {}) as Record<string, unknown>)?.provider;
  if (provider === undefined) return { ok: false, error: { code: "config", message: "This source has no provider: set config.provider." } };
  return { ok: true, details: { kind: "inbound-webhook", provider, url: `${ctx.config.publicUrl}${webhookPath(source.id, provider)}` } };
}

const testSmtp: Tester = async (ctx, source) => {
  const settings = smtpSettingsOf(source, source.secrets ? ctx.secrets.openJson<Record<string, unknown>>(source.secrets) : {});
  if (settings === null) return { ok: false, error: { code: "config", message: "This source has no SMTP settings." } };
  return testSmtpConnection(settings, { ca: ctx.smtpCa });
};

async function guarded(ctx: Context, source: SourceRecord, tester: Tester): Promise<CheckResult> {
  try {
    return await tester(ctx, source);
  } catch (err) {
    ctx.log.warn({ err, sourceId: source.id }, "connection test failed unexpectedly");
    return { ok: false, error: { code: "test_failed", message: `The connection test failed: ${(err as Error).message}` } };
  }
}
