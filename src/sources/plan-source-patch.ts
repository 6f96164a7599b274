// What a PATCH of a source changes, decided from the stored state and the request alone.
// A kind's block, and the SMTP block, are merged with what is stored (an omitted secret is kept)
// and validated whole.
import type { MailboxAcknowledgement } from "../outbound/acknowledgement-settings.ts";
import { validationError } from "../errors.ts";
import { parseWith } from "../http/validate.ts";
import type { Schedule, SourceKind, SourceStatus } from "./source-config.ts";
import {
  blockSchema,
  foreignBlockProblems,
  hasBlock,
  mergeBlock,
  mergeSmtpBlock,
  ownershipProblems,
  smtpBlockProblems,
  smtpBlockSchema,
  splitBlock,
  splitSmtpBlock,
  type KindBlocks,
  type PatchSourceInput,
  type SourceRole,
} from "./source-input.ts";
import type { OpenedSecrets } from "./source-view.ts";
import { AUTH_SECRET_FIELD, listenerConfigInput, listenerFieldProblems, mergeListenerPatch, splitListener, storedListenerOf } from "./smtp/listener-settings.ts";
import { z } from "zod";
import {
  mergeWebhookPatch,
  PASSWORD_SECRET_FIELD,
  SIGNING_KEY_SECRET_FIELD,
  splitWebhook,
  storedWebhookOf,
  webhookConfigInput,
} from "./inbound-webhook/webhook-settings.ts";
import { kindConfigOf, SMTP_SECRET_FIELD, storedSmtpOf, withSmtp, type StoredSmtp } from "./smtp-settings.ts";

export type SourceState = {
  kind: SourceKind;
  /** The primary address (an smtp source's extra addresses must not repeat it). */
  address?: string;
  role: SourceRole;
  companyId: string | null;
  status: string;
  config: Record<string, unknown>;
  secrets: OpenedSecrets;
};

export type SourcePatchPlan = {
  name?: string;
  address?: string;
  role: SourceRole;
  companyId: string | null;
  schedule?: Schedule;
  acknowledgement?: MailboxAcknowledgement | null;
  config?: Record<string, unknown>;
  /** The whole secrets document to seal, when it changed. */
  secrets?: OpenedSecrets;
  status?: SourceStatus;
  /** New connection settings make the last connection error stale. */
  clearError: boolean;
};

const listenerConfigSchema = z.object({ config: listenerConfigInput }).strict();
const webhookConfigSchema = z.object({ config: webhookConfigInput }).strict();

// api and inbound-webhook sources are handed their mail: nothing to connect to. An smtp source is
// connected only while some instance listens, which keepSmtpStatuses settles right after.
export const initialSourceStatus = (kind: SourceKind): SourceStatus =>
  kind === "api" || kind === "inbound-webhook" ? "connected" : "connecting";

export function planSourcePatch(state: SourceState, patch: PatchSourceInput): SourcePatchPlan {
  const role = patch.role ?? state.role;
  // Turning a company mailbox into a system one drops its company unless the request says otherwise.
  const companyId = patch.companyId !== undefined ? patch.companyId : role === "system" ? null : state.companyId;
  const problems = [
    ...foreignBlockProblems(state.kind, patch),
    ...smtpBlockProblems(state.kind, patch.smtp),
    ...listenerFieldProblems(state.kind, patch),
    ...ownershipProblems(role, companyId),
  ];
  if (problems.length > 0) throw validationError(problems);

  const plan: SourcePatchPlan = { role, companyId, clearError: false };
  if (patch.name !== undefined) plan.name = patch.name;
  if (patch.address !== undefined) plan.address = patch.address;
  if (patch.schedule !== undefined) plan.schedule = patch.schedule;
  if (patch.acknowledgement !== undefined) plan.acknowledgement = patch.acknowledgement;

  const blockPatch = hasBlock(state.kind) ? patch[state.kind] : undefined;
  if (hasBlock(state.kind) && blockPatch !== undefined) {
    const kind = state.kind;
    const merged = mergeBlock(kind, { config: kindConfigOf(state.config), secrets: state.secrets }, blockPatch);
    const parsed = parseWith(blockSchema(kind), { [kind]: merged }) as Record<string, unknown>;
    const stored = splitBlock(kind, parsed[kind] as KindBlocks[typeof kind]);
    plan.config = withSmtp(stored.config, storedSmtpOf(state.config));
    // Tokens from an earlier authorization stay; only the block's own secret is replaced.
    plan.secrets = { ...state.secrets, ...stored.secrets };
    plan.clearError = true;
    if (state.status !== "disabled") plan.status = initialSourceStatus(kind);
  }

  if (state.kind === "smtp" && (patch.addresses !== undefined || patch.config !== undefined || patch.address !== undefined)) {
    const merged = mergeListenerPatch(storedListenerOf(state.config), state.secrets[AUTH_SECRET_FIELD], patch);
    const { config } = parseWith(listenerConfigSchema, { config: merged.config });
    const listener = splitListener(patch.address ?? state.address ?? "", merged.addresses, config);
    plan.config = withSmtp(listener.config, storedSmtpOf(state.config));
    const { [AUTH_SECRET_FIELD]: _old, ...others } = state.secrets;
    plan.secrets = { ...others, ...listener.secrets };
  }

  if (state.kind === "inbound-webhook" && patch.config !== undefined) {
    const merged = mergeWebhookPatch(storedWebhookOf(state.config), state.secrets, patch.config);
    const { config } = parseWith(webhookConfigSchema, { config: merged });
    const webhook = splitWebhook(config);
    plan.config = withSmtp(webhook.config, storedSmtpOf(state.config));
    const { [SIGNING_KEY_SECRET_FIELD]: _key, [PASSWORD_SECRET_FIELD]: _password, ...others } = state.secrets;
    plan.secrets = { ...others, ...webhook.secrets };
  }

  // Sending settings leave the connection that reads mail, its status and its last error alone.
  if (patch.smtp !== undefined) {
    const smtp = nextSmtp(state, patch.smtp);
    plan.config = withSmtp(plan.config ?? state.config, smtp.config);
    const secrets = plan.secrets ?? state.secrets;
    if (smtp.password !== secrets[SMTP_SECRET_FIELD]) {
      const { [SMTP_SECRET_FIELD]: _old, ...others } = secrets;
      plan.secrets = smtp.password === undefined ? others : { ...others, [SMTP_SECRET_FIELD]: smtp.password };
    }
  }

  if (patch.enabled === false) plan.status = "disabled";
  if (patch.enabled === true && state.status === "disabled") plan.status = initialSourceStatus(state.kind);
  return plan;
}

/** The SMTP block after the patch (null: removed) and its password. */
function nextSmtp(state: SourceState, patch: Record<string, unknown> | null): { config: StoredSmtp | null; password: string | undefined } {
  if (patch === null) return { config: null, password: undefined };
  const merged = mergeSmtpBlock(storedSmtpOf(state.config), state.secrets[SMTP_SECRET_FIELD], patch);
  const { smtp } = parseWith(smtpBlockSchema, { smtp: merged });
  const problems = smtpBlockProblems(state.kind, smtp);
  if (problems.length > 0) throw validationError(problems);
  const stored = splitSmtpBlock(smtp);
  return { config: stored.config, password: stored.secrets[SMTP_SECRET_FIELD] };
}
