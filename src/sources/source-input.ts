// What a client may send to create or change a mail source, and how a kind's block splits into
// the non-secret config (mail_sources.config) and the secrets that are sealed (mail_sources.secrets).
import { mailboxAcknowledgementSchema } from "../outbound/acknowledgement-settings.ts";
import { z } from "zod";
import { cronProblem } from "../scheduler/processing-window.ts";
import type { FieldProblem } from "../errors.ts";
import { SOURCE_KINDS, scheduleSchema, type SourceKind } from "./source-config.ts";
import { canHaveSmtp, SMTP_KINDS, SMTP_SECRET_FIELD, withSmtp, type StoredSmtp } from "./smtp-settings.ts";
import { listenerConfigInput, listenerFieldProblems, MAX_ADDRESSES, splitListener } from "./smtp/listener-settings.ts";
import { splitWebhook, webhookConfigInput } from "./inbound-webhook/webhook-settings.ts";

export const SOURCE_ROLES = ["system", "company"] as const;
export type SourceRole = (typeof SOURCE_ROLES)[number];

const text = () => z.string().trim().min(1, "must not be empty").max(1000);
const secret = () => z.string().min(1, "must not be empty").max(10_000);
const httpUrl = (example: string) =>
  z.url({ protocol: /^https?$/, message: `expected an http(s) URL, e.g. ${example}` });

export const emailAddress = () =>
  z
    .string()
    .trim()
    .toLowerCase()
    .pipe(z.email("expected an email address, e.g. support@example.com"));

const portNumber = () => z.number().int().min(1, "expected a port from 1 to 65535").max(65535, "expected a port from 1 to 65535");

export const imapInput = z
  .object({
    host: text(),
    port: portNumber().default(993),
    security: z.enum(["ssl", "starttls", "none"]).default("ssl"),
    user: text(),
    password: secret(),
    folder: text().default("INBOX"),
    postProcess: z
      .object({ action: z.enum(["none", "mark_seen", "move"]).default("none"), folder: text().optional() })
      .strict()
      .refine((p) => p.action !== "move" || p.folder !== undefined, {
        path: ["folder"],
        message: "required when action is \"move\": the folder processed mail is moved to, e.g. \"Processed\"",
      })
      .default({ action: "none" }),
  })
  .strict();

export const gmailInput = z
  .object({
    clientId: text(),
    clientSecret: secret(),
    redirectUri: httpUrl("https://mailgate.example.com/admin/oauth/google/callback"),
    topicName: z
      .string()
      .trim()
      .regex(/^projects\/[^/\s]+\/topics\/[^/\s]+$/, "expected a Pub/Sub topic, e.g. projects/my-project/topics/mailgate")
      .optional(),
    delivery: z.enum(["push", "pull"]).default("push"),
    subscriptionName: z
      .string()
      .trim()
      .regex(
        /^projects\/[^/\s]+\/subscriptions\/[^/\s]+$/,
        "expected a Pub/Sub subscription, e.g. projects/my-project/subscriptions/mailgate",
      )
      .optional(),
    postProcess: z.object({ addLabel: text().optional(), markRead: z.boolean().optional() }).strict().default({}),
  })
  .strict()
  .refine((g) => g.delivery !== "pull" || g.subscriptionName !== undefined, {
    path: ["subscriptionName"],
    message: "required when delivery is \"pull\": the Pub/Sub subscription to pull from",
  });

export const graphInput = z
  .object({
    tenantId: text(),
    clientId: text(),
    clientSecret: secret(),
    redirectUri: httpUrl("https://mailgate.example.com/admin/oauth/microsoft/callback"),
  })
  .strict();

/**
 * Outgoing mail through the source's own SMTP server (imap and api sources). The user and
 * password are asked for even when they are the IMAP ones: many providers differ (an app
 * password for one, a relay for the other), and a silent fallback would hide which one failed.
 */
export const smtpInput = z
  .object({
    host: text(),
    port: portNumber().default(587),
    security: z.enum(["ssl", "starttls", "none"]).default("starttls"),
    user: text(),
    password: secret(),
    saveToSent: z.boolean().default(false),
    sentFolder: text().optional(),
  })
  .strict();
export type SmtpInput = z.infer<typeof smtpInput>;

const KIND_INPUTS = { imap: imapInput, gmail: gmailInput, graph: graphInput } as const;
export type BlockKind = keyof typeof KIND_INPUTS;
export type KindBlocks = { [K in BlockKind]: z.infer<(typeof KIND_INPUTS)[K]> };

/** The one field of each kind's block that is a secret (OAuth tokens are added later, by authorization). */
export const SECRET_FIELD: Record<BlockKind, string> = { imap: "password", gmail: "clientSecret", graph: "clientSecret" };

export const hasBlock = (kind: SourceKind): kind is BlockKind => kind in KIND_INPUTS;

const isValidTimezone = (zone: string) => {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
};

// Checked with the scheduler's own cron parser, so a typo fails here, not at 3 a.m.
export const sourceScheduleSchema = scheduleSchema.superRefine((s, ctx) => {
  if (s.mode !== "scheduled") return;
  const timezoneOk = isValidTimezone(s.timezone);
  if (!timezoneOk) {
    ctx.addIssue({ code: "custom", path: ["timezone"], message: "expected an IANA time zone, e.g. \"Europe/Berlin\" or \"UTC\"" });
  }
  s.cron.forEach((expr, i) => {
    const fields = expr.trim().split(/\s+/).length;
    const problem =
      fields === 5
        ? cronProblem(expr, timezoneOk ? s.timezone : "UTC")
        : "expected 5 fields (minute hour day-of-month month day-of-week), e.g. \"0 8-18 * * 1-5\"";
    if (problem) ctx.addIssue({ code: "custom", path: ["cron", i], message: problem });
  });
});

/** A block that belongs to another kind is a mistake worth naming, not something to ignore. */
export function foreignBlockProblems(kind: SourceKind, blocks: Partial<Record<BlockKind, unknown>>): FieldProblem[] {
  return (Object.keys(KIND_INPUTS) as BlockKind[])
    .filter((k) => k !== kind && blocks[k] !== undefined)
    .map((k) => ({ field: k, message: `only for kind "${k}"; this source is kind "${kind}": remove it` }));
}

/** An SMTP block on a kind that sends through its provider, or a Sent copy on a source without a mailbox. */
export function smtpBlockProblems(kind: SourceKind, smtp: Record<string, unknown> | null | undefined): FieldProblem[] {
  if (smtp === null || smtp === undefined) return [];
  if (!canHaveSmtp(kind)) {
    const kinds = SMTP_KINDS.map((k) => `"${k}"`);
    return [{ field: "smtp", message: `only for kinds ${kinds.slice(0, -1).join(", ")} and ${kinds.at(-1)}; a ${kind} source sends through its provider's API: remove it` }];
  }
  if (kind === "imap") return [];
  const mailboxOnly = (field: string) => ({ field: `smtp.${field}`, message: `only for kind "imap": an ${kind} source has no mailbox to keep a copy in; remove it` });
  return [...(smtp.saveToSent === true ? [mailboxOnly("saveToSent")] : []), ...(smtp.sentFolder != null ? [mailboxOnly("sentFolder")] : [])];
}

export function ownershipProblems(role: SourceRole, companyId: string | null): FieldProblem[] {
  if (role === "company" && !companyId) {
    return [{ field: "companyId", message: "required when role is \"company\": the company whose mailbox this is" }];
  }
  if (role === "system" && companyId) {
    return [{ field: "companyId", message: "must be absent when role is \"system\" (a system mailbox routes by sender domain)" }];
  }
  return [];
}

export const listenerAddresses = () => z.array(emailAddress()).max(MAX_ADDRESSES, `expected at most ${MAX_ADDRESSES} addresses`);

export const createSourceInput = z
  .object({
    kind: z.enum(SOURCE_KINDS),
    name: text(),
    address: emailAddress(),
    role: z.enum(SOURCE_ROLES),
    companyId: z.uuid("expected a company id").nullish(),
    schedule: sourceScheduleSchema.default({ mode: "continuous" }),
    imap: imapInput.optional(),
    gmail: gmailInput.optional(),
    graph: graphInput.optional(),
    smtp: smtpInput.nullish(),
    /** The mailbox's own acknowledgement over the ticket rules' (acknowledgement-settings.ts). */
    acknowledgement: mailboxAcknowledgementSchema.nullish(),
    /** kind smtp: more addresses the source owns besides `address`. */
    addresses: listenerAddresses().optional(),
    /** kind smtp: the listener's settings (its AUTH login); kind inbound-webhook: the provider and its credentials. */
    config: z.record(z.string(), z.unknown()).optional(),
  })
  .strict()
  .superRefine((s, ctx) => {
    if (hasBlock(s.kind) && s[s.kind] === undefined) {
      ctx.addIssue({ code: "custom", path: [s.kind], message: `required for kind "${s.kind}": the ${s.kind} settings` });
    }
    const configSchema = s.kind === "smtp" ? listenerConfigInput.optional() : s.kind === "inbound-webhook" ? webhookConfigInput : null;
    if (configSchema !== null) {
      const parsed = configSchema.safeParse(s.config);
      if (!parsed.success) {
        const missing = s.config === undefined;
        for (const issue of parsed.error.issues) {
          const message = missing ? `required for kind "${s.kind}": {"provider": "ses" | "mailgun" | "sendgrid" | "postmark", ...}` : issue.message;
          ctx.addIssue({ code: "custom", path: ["config", ...issue.path.map((p) => (typeof p === "symbol" ? String(p) : p))], message });
        }
      }
    }
    const problems = [
      ...foreignBlockProblems(s.kind, s),
      ...smtpBlockProblems(s.kind, s.smtp),
      ...listenerFieldProblems(s.kind, s),
      ...ownershipProblems(s.role, s.companyId ?? null),
    ];
    for (const p of problems) {
      ctx.addIssue({ code: "custom", path: [p.field], message: p.message });
    }
  });
export type CreateSourceInput = z.infer<typeof createSourceInput>;

// A block in a PATCH is a partial: it is merged with what is stored and then validated whole.
const partialBlock = z.record(z.string(), z.unknown());

export const patchSourceInput = z
  .object({
    kind: z.unknown().optional(),
    name: text().optional(),
    address: emailAddress().optional(),
    role: z.enum(SOURCE_ROLES).optional(),
    companyId: z.uuid("expected a company id").nullable().optional(),
    schedule: sourceScheduleSchema.optional(),
    enabled: z.boolean().optional(),
    imap: partialBlock.optional(),
    gmail: partialBlock.optional(),
    graph: partialBlock.optional(),
    /** A partial block merged like a kind's; null removes it. */
    smtp: partialBlock.nullable().optional(),
    /** Replaces the mailbox's acknowledgement whole; null goes back to the ticket rules'. */
    acknowledgement: mailboxAcknowledgementSchema.nullable().optional(),
    /** kind smtp: replaces the extra addresses. */
    addresses: listenerAddresses().optional(),
    /** kind smtp: merged with what is stored; `auth: null` removes the login. */
    config: partialBlock.optional(),
  })
  .strict()
  .superRefine((s, ctx) => {
    if (s.kind !== undefined) {
      ctx.addIssue({ code: "custom", path: ["kind"], message: "cannot change: create a new source of the other kind and delete this one" });
    }
  });
export type PatchSourceInput = z.infer<typeof patchSourceInput>;

export type StoredKind = { config: Record<string, unknown>; secrets: Record<string, unknown> | null };

/** Splits a validated block into what is stored in the clear and what is sealed. */
export function splitBlock(kind: BlockKind, block: KindBlocks[BlockKind]): StoredKind {
  const { [SECRET_FIELD[kind]]: secretValue, ...config } = block as Record<string, unknown>;
  return { config, secrets: { [SECRET_FIELD[kind]]: secretValue } };
}

/** The config and secrets a validated create request stores (an api source without SMTP has neither). */
export function storedBlockOf(input: CreateSourceInput): StoredKind {
  const block = hasBlock(input.kind) ? input[input.kind] : undefined;
  const stored =
    hasBlock(input.kind) && block
      ? splitBlock(input.kind, block)
      : input.kind === "smtp"
        ? storedListenerBlock(input)
        : input.kind === "inbound-webhook"
          ? storedWebhookBlock(input)
          : { config: {}, secrets: null };
  if (!input.smtp) return stored;
  const smtp = splitSmtpBlock(input.smtp);
  return { config: withSmtp(stored.config, smtp.config), secrets: { ...stored.secrets, ...smtp.secrets } };
}

function storedListenerBlock(input: CreateSourceInput): StoredKind {
  const listener = splitListener(input.address, input.addresses, listenerConfigInput.parse(input.config ?? {}));
  return { config: listener.config, secrets: Object.keys(listener.secrets).length > 0 ? listener.secrets : null };
}

function storedWebhookBlock(input: CreateSourceInput): StoredKind {
  const webhook = splitWebhook(webhookConfigInput.parse(input.config));
  return { config: webhook.config, secrets: Object.keys(webhook.secrets).length > 0 ? webhook.secrets : null };
}

export function splitSmtpBlock(block: SmtpInput): { config: StoredSmtp; secrets: { [SMTP_SECRET_FIELD]: string } } {
  const { password, ...config } = block;
  return { config, secrets: { [SMTP_SECRET_FIELD]: password } };
}

/**
 * The block a PATCH describes: stored config and stored secret, overlaid with the patch; a null
 * clears an optional field. The result still has to pass the kind's schema.
 */
export function mergeBlock(
  kind: BlockKind,
  stored: { config: Record<string, unknown>; secrets: Record<string, unknown> },
  patch: Record<string, unknown>,
): Record<string, unknown> {
  const secretField = SECRET_FIELD[kind];
  const merged: Record<string, unknown> = { ...stored.config, [secretField]: stored.secrets[secretField], ...patch };
  for (const [key, value] of Object.entries(merged)) if (value === null || value === undefined) delete merged[key];
  return merged;
}

export const blockSchema = (kind: BlockKind) => z.object({ [kind]: KIND_INPUTS[kind] }).strict();

/** The SMTP block a PATCH describes, as mergeBlock does for a kind's: it still has to pass smtpBlockSchema. */
export function mergeSmtpBlock(stored: StoredSmtp | null, storedPassword: unknown, patch: Record<string, unknown>): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...stored, password: storedPassword, ...patch };
  for (const [key, value] of Object.entries(merged)) if (value === null || value === undefined) delete merged[key];
  return merged;
}

export const smtpBlockSchema = z.object({ smtp: smtpInput }).strict();
