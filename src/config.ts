// The only reader of process.env. Every setting is parsed once, here, with zod; a bad value
// stops the start with a message that names the variable and what it expects.
import { isIP } from "node:net";
import { z } from "zod";

const bool = z
  .enum(["true", "false", "1", "0", "yes", "no"], { message: "expected true or false" })
  .transform((v) => v === "true" || v === "1" || v === "yes");

const int = (min: number, max: number) =>
  z.coerce
    .number({ message: "expected a whole number" })
    .int("expected a whole number")
    .min(min, `expected at least ${min}`)
    .max(max, `expected at most ${max}`);

const ROLES = ["api", "worker", "sources"] as const;
export type Role = (typeof ROLES)[number];

const envSchema = z.object({
  PORT: int(0, 65535).default(3000).describe("HTTP port"),
  HOST: z.string().min(1).default("0.0.0.0").describe("address to bind"),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, "expected a postgres:// URL, or leave it unset for the embedded database")
    .optional().describe("postgres:// URL of the database; unset = the embedded database (PGlite) in DATA_DIR"),
  DATABASE_POOL_SIZE: int(1, 200).default(10).describe("Postgres connections per instance, opened when the pipeline starts and kept open"),
  DATA_DIR: z.string().min(1).default("./data").describe("embedded database, generated admin token and secret key (kept private: mode 0700)"),
  ADMIN_API_TOKEN: z.string().min(16, "expected at least 16 characters").optional().describe("bearer token for /api (at least 16 characters); unset = generated into DATA_DIR/admin-token"),
  MAILGATE_SECRET_KEY: z
    .string()
    .refine((v) => decodeKey(v) !== null, "expected 32 bytes as 64 hex characters or base64")
    .optional().describe("32 bytes (64 hex characters or base64) encrypting stored secrets; unset = DATA_DIR/secret.key"),
  PUBLIC_URL: z.url({ message: "expected an absolute URL such as https://mailgate.example.com" }).optional().describe("external base URL (OAuth redirects, push endpoints, links in webhooks); unset = http://localhost:$PORT"),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info").describe("fatal, error, warn, info, debug, trace or silent"),
  LOG_FORMAT: z.enum(["json", "pretty"], { message: "expected json or pretty" }).optional().describe("json (one object a line) or pretty (for people); unset = pretty on a terminal, else json"),
  MAILGATE_ROLES: z
    .string()
    .default(ROLES.join(","))
    .transform((v) => v.split(",").map((r) => r.trim()).filter(Boolean))
    .pipe(z.array(z.enum(ROLES, { message: `expected a comma-separated list of ${ROLES.join(", ")}` })).min(1)).describe("what this instance runs, comma-separated: api, worker, sources"),
  MAX_MESSAGE_BYTES: int(1024, 1024 * 1024 * 1024).default(50 * 1024 * 1024).describe("largest raw email accepted"),
  MESSAGE_ID_DOMAIN: z.string().min(1).default("mailgate.local").describe("domain of the Message-IDs mailgate generates"),
  WORKER_CONCURRENCY: int(1, 64).default(4).describe("pipeline workers per instance (the embedded database uses one)"),
  WORKER_BATCH_SIZE: int(1, 500).default(128).describe("most waiting messages one worker takes into one transaction"),
  SHUTDOWN_TIMEOUT_MS: int(0, 600_000).default(10_000).describe("how long a graceful stop (SIGTERM/SIGINT) may take"),
  WEBHOOK_RETRY_SCHEDULE: z
    .string()
    .default("0,5,300,1800,7200,18000,36000,36000")
    .transform((v) => v.split(",").map((s) => Number(s.trim())))
    .pipe(z.array(z.number().int().min(0)).min(1, "expected seconds, comma-separated, e.g. 0,5,300")).describe("seconds before each delivery attempt, comma-separated"),
  WEBHOOK_ALLOW_HTTP: bool.optional().describe("allow http:// webhook endpoints; unset = true on the embedded database, false on Postgres"),
  WEBHOOK_ALLOW_PRIVATE_NETWORKS: bool.optional().describe("allow endpoints on loopback, private or link-local addresses; unset = true embedded, false on Postgres"),
  WEBHOOK_CONCURRENCY: int(1, 1000).default(64).describe("webhook deliveries in flight per instance"),
  WEBHOOK_PER_ENDPOINT_CONCURRENCY: int(1, 1000).default(16).describe("webhook deliveries in flight per endpoint"),
  WEBHOOK_TIMEOUT_MS: int(100, 120_000).default(15_000).describe("timeout of one delivery attempt"),
  WEBHOOK_DISABLE_AFTER_DAYS: int(1, 365).default(5).describe("an endpoint failing every delivery this long is disabled"),
  IMAP_CONNECT_CONCURRENCY: int(1, 1000).default(20).describe("IMAP connections being opened (connect, login, select) at once per instance"),
  IMAP_CONNECTS_PER_SECOND: int(1, 10_000).default(50).describe("IMAP connections begun per second per instance, at start and after a server outage"),
  OUTBOUND_CONCURRENCY: int(1, 256).default(16).describe("outgoing mails (replies, acknowledgements) being sent at once per instance"),
  OUTBOUND_RETRY_SCHEDULE: z
    .string()
    .default("30,60,300,900,3600,7200,14400,28800")
    .transform((v) => v.split(",").map((s) => Number(s.trim())))
    .pipe(z.array(z.number().int().min(0)).min(1, "expected seconds, comma-separated, e.g. 30,60,300")).describe("seconds before each retry of an outgoing mail after a temporary failure, comma-separated; past the last, it fails"),
  RETENTION_DAYS: int(1, 3650).default(30).describe("days the raw MIME of processed messages is kept"),
  WEBHOOK_ATTEMPT_RETENTION_DAYS: int(1, 3650).default(30).describe("days the log of webhook delivery attempts is kept"),
  ERROR_LOG_RETENTION_DAYS: int(1, 3650).default(90).describe("days error log entries are kept"),
  SOURCE_FAILED_WEBHOOK_DELAY_SECONDS: int(0, 7 * 24 * 3600)
    .default(300)
    .describe("how long a source must keep failing on an error a retry may fix (server unreachable, timeout, provider unavailable) before source.failed is sent; 0 = at once"),
  SMTP_CA_FILE: z.string().min(1).optional().describe("PEM file of certificate authorities SMTP connections trust beside the public ones (a mail server with a private CA); read at start"),
  // The SMTP listener (sources of kind smtp).
  SMTP_LISTEN: z
    .string()
    .transform((v, ctx) => {
      const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s]+)):(\d{1,5})$/.exec(v.trim());
      const port = m ? Number(m[3]) : NaN;
      if (!m || port > 65535) {
        ctx.addIssue({ code: "custom", message: "expected host:port, e.g. 0.0.0.0:25, 127.0.0.1:2525 or [::]:25" });
        return z.NEVER;
      }
      return { host: m[1] ?? m[2]!, port };
    })
    .optional()
    .describe("host:port the SMTP listener binds (sources of kind smtp), e.g. 0.0.0.0:25; unset = no listener"),
  SMTP_TLS_CERT: z.string().min(1).optional().describe("PEM certificate (chain) the SMTP listener offers with STARTTLS; unset = a self-signed one made at start"),
  SMTP_TLS_KEY: z.string().min(1).optional().describe("PEM private key of SMTP_TLS_CERT"),
  SMTP_MAX_CLIENTS: int(1, 100_000).default(100).describe("SMTP connections the listener serves at once; more are answered 421"),
  SMTP_MAX_RECIPIENTS: int(1, 10_000).default(50).describe("recipients one message may have; more are answered 452"),
  SMTP_MAX_MESSAGES_PER_CONNECTION: int(1, 1_000_000).default(1000).describe("messages one SMTP connection may send before it is closed (421)"),
  SMTP_MAX_REFUSED_RECIPIENTS: int(1, 10_000).default(20).describe("recipients an SMTP connection may have refused (unknown address, no AUTH) before it is closed (421)"),
  SMTP_ALLOW_FROM: z
    .string()
    .transform((v, ctx) => {
      const ranges = v.split(",").map((s) => s.trim()).filter(Boolean);
      for (const range of ranges) {
        if (parseCidr(range) === null) ctx.addIssue({ code: "custom", message: `"${range}" is not an address or CIDR range; expected e.g. 10.0.0.0/8,2001:db8::/32,192.0.2.7` });
      }
      return ranges;
    })
    .optional()
    .describe("comma-separated addresses or CIDR ranges allowed to connect to the SMTP listener; unset = any"),
  // Amazon SNS (inbound-webhook sources with provider ses).
  SNS_CERT_URL_BASE: z
    .url({ protocol: /^https$/, message: "expected an https URL, e.g. https://127.0.0.1:8443/sns" })
    .optional()
    .describe("the only https URL prefix SNS signing certificates and subscription confirmations may come from; unset = https://sns.<region>.amazonaws.com (for tests and private endpoints)"),
  SNS_CA_FILE: z.string().min(1).optional().describe("PEM file of certificate authorities trusted beside the public ones when fetching SNS certificates (with SNS_CERT_URL_BASE)"),
  // Google (Gmail source). Every endpoint is configurable: that is how tests reach the fakes.
  GOOGLE_OAUTH_AUTH_URL: z.url().default("https://accounts.google.com/o/oauth2/v2/auth").describe("Google's consent page"),
  GOOGLE_OAUTH_TOKEN_URL: z.url().default("https://oauth2.googleapis.com/token").describe("Google's token endpoint"),
  GOOGLE_OAUTH_CERTS_URL: z.url().default("https://www.googleapis.com/oauth2/v1/certs").describe("Google's signing certificates, for Pub/Sub push tokens"),
  GMAIL_API_ROOT_URL: z.url().default("https://gmail.googleapis.com/").describe("Gmail API root"),
  PUBSUB_EMULATOR_HOST: z.string().min(1).optional().describe("host:port of a Pub/Sub emulator for pull delivery; unset = Google Cloud Pub/Sub"),
  GMAIL_PUSH_AUDIENCE: z.string().min(1).optional().describe("expected audience of Pub/Sub push tokens; unset = PUBLIC_URL/push/gmail"),
  GMAIL_PUSH_SERVICE_ACCOUNT: z.string().min(1).optional().describe("service account Pub/Sub push tokens must be signed for"),
  // Microsoft 365 (Graph source).
  GRAPH_API_URL: z.url().default("https://graph.microsoft.com/v1.0").describe("Microsoft Graph root"),
  MICROSOFT_LOGIN_URL: z.url().default("https://login.microsoftonline.com").describe("Microsoft identity platform, for sign-in and token refresh"),
  GRAPH_SUBSCRIPTION_MINUTES: int(5, 10_070).default(10_070).describe("lifetime asked for each Graph subscription (5 to 10070)"),
});

export type Config = {
  port: number;
  host: string;
  databaseUrl: string | undefined;
  databasePoolSize: number;
  dataDir: string;
  adminApiToken: string | undefined;
  secretKey: Buffer | undefined;
  publicUrl: string;
  logLevel: z.infer<typeof envSchema>["LOG_LEVEL"];
  /** undefined: pretty when stdout is a terminal, JSON otherwise (decided in log.ts). */
  logFormat: "json" | "pretty" | undefined;
  roles: Role[];
  maxMessageBytes: number;
  messageIdDomain: string;
  workerConcurrency: number;
  workerBatchSize: number;
  shutdownTimeoutMs: number;
  webhook: {
    retryScheduleSeconds: number[];
    allowHttp: boolean;
    allowPrivateNetworks: boolean;
    concurrency: number;
    perEndpointConcurrency: number;
    timeoutMs: number;
    disableAfterDays: number;
  };
  /** The pace at which an instance opens IMAP connections (sources/imap/connect-gate.ts). */
  imapConnect: { concurrency: number; perSecond: number };
  outbound: { concurrency: number; retryScheduleSeconds: number[] };
  retentionDays: number;
  webhookAttemptRetentionDays: number;
  errorLogRetentionDays: number;
  /** Status and lastError show a failure at once; only the webhook waits this long (see source-status.ts). */
  sourceFailedWebhookDelaySeconds: number;
  /** Read by boot.ts into ctx.smtpCa. */
  smtpCaFile: string | undefined;
  google: {
    authUrl: string;
    tokenUrl: string;
    certsUrl: string;
    gmailApiRootUrl: string;
    pubsubEmulatorHost: string | undefined;
    /** Expected `aud` of Pub/Sub push tokens; default PUBLIC_URL + /push/gmail. */
    pushAudience: string;
    /** Expected `email` of Pub/Sub push tokens (the push subscription's service account). */
    pushServiceAccount: string | undefined;
  };
  microsoft: { graphApiUrl: string; loginUrl: string; subscriptionMinutes: number };
  /** certUrlBase null: SNS's own hosts (https://sns.<region>.amazonaws.com). */
  sns: { certUrlBase: string | null; caFile: string | undefined };
  /** null: no listener (SMTP_LISTEN unset). */
  smtpListener: SmtpListenerConfig | null;
};

export type SmtpListenerConfig = {
  host: string;
  port: number;
  /** Paths of the PEM files; both undefined: a self-signed certificate made at start. */
  tlsCertFile: string | undefined;
  tlsKeyFile: string | undefined;
  maxClients: number;
  maxRecipients: number;
  maxMessagesPerConnection: number;
  maxRefusedRecipients: number;
  /** Empty: any client may connect. */
  allowFrom: string[];
};

export class ConfigError extends Error {
  readonly problems: string[];

  constructor(problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
    this.problems = problems;
  }
}

export function parseConfig(env: Record<string, string | undefined>): Config {
  // An empty variable means "not set": docker-compose and .env files often carry blanks.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`));
  }
  const e = parsed.data;
  if ((e.SMTP_TLS_CERT === undefined) !== (e.SMTP_TLS_KEY === undefined)) {
    throw new ConfigError([`${e.SMTP_TLS_CERT === undefined ? "SMTP_TLS_CERT" : "SMTP_TLS_KEY"}: required with ${e.SMTP_TLS_CERT === undefined ? "SMTP_TLS_KEY" : "SMTP_TLS_CERT"} (set both, or neither for a self-signed certificate)`]);
  }
  const embedded = e.DATABASE_URL === undefined;
  return {
    port: e.PORT,
    host: e.HOST,
    databaseUrl: e.DATABASE_URL,
    databasePoolSize: e.DATABASE_POOL_SIZE,
    dataDir: e.DATA_DIR,
    adminApiToken: e.ADMIN_API_TOKEN,
    secretKey: e.MAILGATE_SECRET_KEY === undefined ? undefined : (decodeKey(e.MAILGATE_SECRET_KEY) ?? undefined),
    publicUrl: (e.PUBLIC_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, ""),
    logLevel: e.LOG_LEVEL,
    logFormat: e.LOG_FORMAT,
    roles: e.MAILGATE_ROLES,
    maxMessageBytes: e.MAX_MESSAGE_BYTES,
    messageIdDomain: e.MESSAGE_ID_DOMAIN,
    workerConcurrency: e.WORKER_CONCURRENCY,
    workerBatchSize: e.WORKER_BATCH_SIZE,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    webhook: {
      retryScheduleSeconds: e.WEBHOOK_RETRY_SCHEDULE,
      // The embedded quick start delivers to receivers on the same machine over plain http.
      allowHttp: e.WEBHOOK_ALLOW_HTTP ?? embedded,
      allowPrivateNetworks: e.WEBHOOK_ALLOW_PRIVATE_NETWORKS ?? embedded,
      concurrency: e.WEBHOOK_CONCURRENCY,
      perEndpointConcurrency: e.WEBHOOK_PER_ENDPOINT_CONCURRENCY,
      timeoutMs: e.WEBHOOK_TIMEOUT_MS,
      disableAfterDays: e.WEBHOOK_DISABLE_AFTER_DAYS,
    },
    imapConnect: { concurrency: e.IMAP_CONNECT_CONCURRENCY, perSecond: e.IMAP_CONNECTS_PER_SECOND },
    outbound: { concurrency: e.OUTBOUND_CONCURRENCY, retryScheduleSeconds: e.OUTBOUND_RETRY_SCHEDULE },
    retentionDays: e.RETENTION_DAYS,
    webhookAttemptRetentionDays: e.WEBHOOK_ATTEMPT_RETENTION_DAYS,
    errorLogRetentionDays: e.ERROR_LOG_RETENTION_DAYS,
    sourceFailedWebhookDelaySeconds: e.SOURCE_FAILED_WEBHOOK_DELAY_SECONDS,
    smtpCaFile: e.SMTP_CA_FILE,
    google: {
      authUrl: e.GOOGLE_OAUTH_AUTH_URL,
      tokenUrl: e.GOOGLE_OAUTH_TOKEN_URL,
      certsUrl: e.GOOGLE_OAUTH_CERTS_URL,
      gmailApiRootUrl: e.GMAIL_API_ROOT_URL,
      pubsubEmulatorHost: e.PUBSUB_EMULATOR_HOST,
      pushAudience: e.GMAIL_PUSH_AUDIENCE ?? `${(e.PUBLIC_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, "")}/push/gmail`,
      pushServiceAccount: e.GMAIL_PUSH_SERVICE_ACCOUNT,
    },
    microsoft: {
      graphApiUrl: e.GRAPH_API_URL.replace(/\/+$/, ""),
      loginUrl: e.MICROSOFT_LOGIN_URL.replace(/\/+$/, ""),
      subscriptionMinutes: e.GRAPH_SUBSCRIPTION_MINUTES,
    },
    sns: { certUrlBase: e.SNS_CERT_URL_BASE ?? null, caFile: e.SNS_CA_FILE },
    smtpListener:
      e.SMTP_LISTEN === undefined
        ? null
        : {
            ...e.SMTP_LISTEN,
            tlsCertFile: e.SMTP_TLS_CERT,
            tlsKeyFile: e.SMTP_TLS_KEY,
            maxClients: e.SMTP_MAX_CLIENTS,
            maxRecipients: e.SMTP_MAX_RECIPIENTS,
            maxMessagesPerConnection: e.SMTP_MAX_MESSAGES_PER_CONNECTION,
            maxRefusedRecipients: e.SMTP_MAX_REFUSED_RECIPIENTS,
            allowFrom: e.SMTP_ALLOW_FROM ?? [],
          },
  };
}

/** An address or CIDR range as net.BlockList takes it; null when it is neither. */
export function parseCidr(range: string): { address: string; prefix: number; family: "ipv4" | "ipv6" } | null {
  const [address = "", prefixText, extra] = range.split("/");
  const version = isIP(address);
  if (version === 0 || extra !== undefined) return null;
  const max = version === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? max : /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
  if (!(prefix >= 0 && prefix <= max)) return null;
  return { address, prefix, family: version === 4 ? "ipv4" : "ipv6" };
}

function decodeKey(value: string): Buffer | null {
  if (/^[0-9a-fA-F]{64}$/.test(value)) return Buffer.from(value, "hex");
  const b = Buffer.from(value, "base64");
  return b.length === 32 ? b : null;
}

export type SettingHelp = { name: string; default: string | undefined; description: string };

/**
 * Every variable the schema reads, with its default and description, for `--help`: read from the
 * schema itself so the help cannot drift from what is parsed.
 */
export function describeSettings(): SettingHelp[] {
  return Object.entries(envSchema.shape).map(([name, field]) => ({
    name,
    default: defaultOf(field),
    description: field.description ?? "",
  }));
}

function defaultOf(field: z.ZodType): string | undefined {
  // A default sits under the describe() wrapper, or at the input end of a transform pipe.
  let node: z.ZodType = field;
  for (;;) {
    if (node instanceof z.ZodDefault) {
      const value: unknown = node.def.defaultValue;
      return String(value);
    }
    if (node instanceof z.ZodPipe) node = node.def.in as z.ZodType;
    else return undefined;
  }
}

/** The process's own configuration. */
export const loadConfig = (): Config => parseConfig(process.env);
