// What the API shows of a source: its settings, never its secrets. A secret appears only as a
// `hasX` flag, and OAuth tokens only as `authorized`.
import type { MailboxAcknowledgement } from "../outbound/acknowledgement-settings.ts";
import type { SourceRecord } from "../db/sources.ts";
import type { MessageCounts } from "../db/inbound-messages.ts";
import type { SourceKind } from "./source-config.ts";
import { canHaveSmtp, kindConfigOf, SMTP_SECRET_FIELD, storedSmtpOf } from "./smtp-settings.ts";
import { canSend } from "./graph/granted-scopes.ts";
import { REAUTHORIZE_TO_SEND } from "./graph/send-message.ts";
import { listenerView } from "./smtp/listener-settings.ts";
import { webhookView } from "./inbound-webhook/webhook-settings.ts";

export type OpenedSecrets = Record<string, unknown>;

export type SourceView = {
  id: string;
  kind: string;
  name: string;
  address: string;
  role: string;
  companyId: string | null;
  schedule: unknown;
  /** The mailbox's own acknowledgement over the ticket rules', or null. */
  acknowledgement: MailboxAcknowledgement | null;
  status: string;
  lastError: string | null;
  lastErrorAt: Date | null;
  lastProcessedAt: Date | null;
  lastSyncAt: Date | null;
  syncRequestedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
  imap?: Record<string, unknown>;
  gmail?: Record<string, unknown>;
  graph?: Record<string, unknown>;
  /** smtp sources: the addresses owned besides `address`, and the listener's settings; inbound-webhook sources: the provider's. */
  addresses?: string[];
  config?: Record<string, unknown> | null;
  /** imap and api sources: the SMTP block, or null when it has none. */
  smtp?: Record<string, unknown> | null;
  /** Whether replies and acknowledgements can go out through it, and if not, what to do. */
  sending: { canSend: boolean; problem: string | null };
  messageCounts: MessageCounts;
  /** Push sources: the Gmail watch or Graph subscription and when it expires. */
  subscription: SourceSubscription | null;
};

const present = (value: unknown) => typeof value === "string" && value.length > 0;

function kindBlock(kind: SourceKind, storedConfig: Record<string, unknown>, secrets: OpenedSecrets) {
  const config = kindConfigOf(storedConfig);
  switch (kind) {
    case "imap":
      return { imap: { ...config, hasPassword: present(secrets.password) } };
    case "gmail":
      return { gmail: { ...config, hasClientSecret: present(secrets.clientSecret), authorized: secrets.tokens != null } };
    case "graph":
      return { graph: { ...config, hasClientSecret: present(secrets.clientSecret), authorized: secrets.tokens != null } };
    case "api":
      return {};
    case "smtp":
      return listenerView(storedConfig, secrets);
    case "inbound-webhook":
      return webhookView(storedConfig, secrets);
  }
}

function smtpBlock(kind: SourceKind, config: Record<string, unknown>, secrets: OpenedSecrets) {
  if (!canHaveSmtp(kind)) return {};
  const smtp = storedSmtpOf(config);
  return { smtp: smtp === null ? null : { ...smtp, hasPassword: present(secrets[SMTP_SECRET_FIELD]) } };
}

function sendingOf(kind: SourceKind, config: Record<string, unknown>, secrets: OpenedSecrets): SourceView["sending"] {
  const tokens = secrets.tokens as { scope?: unknown } | null | undefined;
  switch (kind) {
    case "gmail":
      return tokens ? { canSend: true, problem: null } : { canSend: false, problem: "authorize the source first" };
    case "graph":
      if (!tokens) return { canSend: false, problem: "authorize the source first" };
      return canSend({ scope: typeof tokens.scope === "string" ? tokens.scope : "" }) ? { canSend: true, problem: null } : { canSend: false, problem: REAUTHORIZE_TO_SEND };
    case "imap":
    case "api":
    case "smtp":
    case "inbound-webhook":
      return storedSmtpOf(config) ? { canSend: true, problem: null } : { canSend: false, problem: "no SMTP settings: add the smtp block to send replies and acknowledgements" };
  }
}

export type SourceSubscription = { id: string; provider: string; status: string; expiresAt: Date | null; lastRenewedAt: Date | null };

export function toSourceView(
  row: SourceRecord,
  secrets: OpenedSecrets,
  messageCounts: MessageCounts,
  subscription: SourceSubscription | null = null,
): SourceView {
  return {
    id: row.id,
    kind: row.kind,
    name: row.name,
    address: row.address,
    role: row.role,
    companyId: row.companyId,
    schedule: row.schedule,
    acknowledgement: row.acknowledgement ?? null,
    status: row.status,
    lastError: row.lastError,
    lastErrorAt: row.lastErrorAt,
    lastProcessedAt: row.lastProcessedAt,
    lastSyncAt: row.lastSyncAt,
    syncRequestedAt: row.syncRequestedAt,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    ...kindBlock(row.kind as SourceKind, (row.config ?? {}) as Record<string, unknown>, secrets),
    ...smtpBlock(row.kind as SourceKind, (row.config ?? {}) as Record<string, unknown>, secrets),
    sending: sendingOf(row.kind as SourceKind, (row.config ?? {}) as Record<string, unknown>, secrets),
    messageCounts,
    subscription,
  };
}
