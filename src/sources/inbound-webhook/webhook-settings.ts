// The settings of an `inbound-webhook` source: which mail service posts its mail to
// POST /push/inbound/:sourceId/:provider, and what proves a request comes from it.
//
// Request: `config: {provider, ...}`: mailgun `{signingKey}`, sendgrid and postmark
// `{user, password}` (the HTTP Basic credentials written into the URL given to the service),
// ses `{topicArn}` (the SNS topic allowed to post). Stored: provider, user and topicArn in
// mail_sources.config; the signing key and the password sealed in the secrets. The API shows
// `hasSigningKey` / `hasPassword` instead.
import { z } from "zod";

export const WEBHOOK_PROVIDERS = ["ses", "mailgun", "sendgrid", "postmark"] as const;
export type WebhookProvider = (typeof WEBHOOK_PROVIDERS)[number];
export const isWebhookProvider = (value: string): value is WebhookProvider => (WEBHOOK_PROVIDERS as readonly string[]).includes(value);

export const SIGNING_KEY_SECRET_FIELD = "webhookSigningKey";
export const PASSWORD_SECRET_FIELD = "webhookPassword";

// RFC 7617: a user-id cannot contain a colon.
const user = z.string().trim().min(1, "must not be empty").max(256).regex(/^[^:]*$/, "must not contain \":\" (HTTP Basic credentials)");
const password = z.string().min(16, "expected at least 16 characters (it is the only thing protecting the URL)").max(1000);

export const webhookConfigInput = z.discriminatedUnion(
  "provider",
  [
    z.object({ provider: z.literal("mailgun"), signingKey: z.string().trim().min(1, "must not be empty: Mailgun's HTTP webhook signing key").max(1000) }).strict(),
    z.object({ provider: z.literal("sendgrid"), user, password }).strict(),
    z.object({ provider: z.literal("postmark"), user, password }).strict(),
    z
      .object({
        provider: z.literal("ses"),
        topicArn: z.string().trim().regex(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_.-]{1,256}$/, "expected an SNS topic ARN, e.g. arn:aws:sns:eu-west-1:123456789012:mailgate-inbound"),
      })
      .strict(),
  ],
  { error: () => `expected "provider": one of ${WEBHOOK_PROVIDERS.map((p) => `"${p}"`).join(", ")}` },
);
export type WebhookConfigInput = z.infer<typeof webhookConfigInput>;

/** What mail_sources.config holds for an inbound-webhook source (besides an SMTP sending block). */
export type StoredWebhook = { provider: WebhookProvider; user?: string; topicArn?: string };

export function splitWebhook(config: WebhookConfigInput): { config: StoredWebhook; secrets: Record<string, string> } {
  switch (config.provider) {
    case "mailgun":
      return { config: { provider: "mailgun" }, secrets: { [SIGNING_KEY_SECRET_FIELD]: config.signingKey } };
    case "sendgrid":
    case "postmark":
      return { config: { provider: config.provider, user: config.user }, secrets: { [PASSWORD_SECRET_FIELD]: config.password } };
    case "ses":
      return { config: { provider: "ses", topicArn: config.topicArn }, secrets: {} };
  }
}

export function storedWebhookOf(config: Record<string, unknown>): StoredWebhook | null {
  const provider = typeof config.provider === "string" && isWebhookProvider(config.provider) ? config.provider : null;
  if (provider === null) return null;
  return {
    provider,
    ...(typeof config.user === "string" ? { user: config.user } : {}),
    ...(typeof config.topicArn === "string" ? { topicArn: config.topicArn } : {}),
  };
}

/**
 * The settings after a PATCH of `config`: merged with what is stored (an omitted signing key or
 * password is kept) while the provider stays; a new provider starts from the request alone.
 * Validated whole by the caller.
 */
export function mergeWebhookPatch(stored: StoredWebhook | null, secrets: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> {
  if (stored === null || (patch.provider !== undefined && patch.provider !== stored.provider)) return patch;
  const kept: Record<string, unknown> = { ...stored };
  if (stored.provider === "mailgun") kept.signingKey = secrets[SIGNING_KEY_SECRET_FIELD];
  if (stored.provider === "sendgrid" || stored.provider === "postmark") kept.password = secrets[PASSWORD_SECRET_FIELD];
  const merged: Record<string, unknown> = { ...kept, ...patch };
  for (const [key, value] of Object.entries(merged)) if (value === null || value === undefined) delete merged[key];
  return merged;
}

/** The API's view: the provider and its non-secret settings, never the key or the password. */
export function webhookView(config: Record<string, unknown>, secrets: Record<string, unknown>) {
  const stored = storedWebhookOf(config);
  const has = (field: string) => typeof secrets[field] === "string" && (secrets[field] as string).length > 0;
  switch (stored?.provider) {
    case undefined:
      return { config: null };
    case "mailgun":
      return { config: { provider: "mailgun", hasSigningKey: has(SIGNING_KEY_SECRET_FIELD) } };
    case "sendgrid":
    case "postmark":
      return { config: { provider: stored.provider, user: stored.user ?? null, hasPassword: has(PASSWORD_SECRET_FIELD) } };
    case "ses":
      return { config: { provider: "ses", topicArn: stored.topicArn ?? null } };
  }
}

/** Where the provider posts (Mailgun's raw-MIME forward needs a URL that ends with "mime"). */
export const webhookPath = (sourceId: string, provider: WebhookProvider): string =>
  `/push/inbound/${sourceId}/${provider}${provider === "mailgun" ? "/mime" : ""}`;
