// The database schema: the truth behind migrations/ (drizzle-kit generates the SQL from this file).
//
// Glossary
//   source            a mailbox mailgate reads (IMAP, Gmail, Graph) or the raw-MIME API
//   inbound message   one email as a source delivered it: raw bytes first, processed later
//   provider id       the source's own id for an email (IMAP "uidValidity:uid", Gmail id, Graph immutable id)
//   message id        the normalised RFC 5322 Message-ID, used for threading and dedupe
//   event             an outbox row, written in the same transaction as the change it describes
//   delivery          one event to one webhook endpoint, retried until it succeeds or is exhausted
import { sql } from "drizzle-orm";
import {
  type AnyPgColumn,
  bigint,
  boolean,
  customType,
  index,
  integer,
  jsonb,
  pgSequence,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";
import type {
  DeliveryStatus,
  ErrorKind,
  InboundEnvelope,
  InboundStatus,
  MessageDirection,
  MessageKind,
  OutboundKind,
  OutboundStatus,
  SourceKind,
  SourceStatus,
  SubscriptionStatus,
  TicketStatus,
} from "./statuses.ts";
import type { MailboxAcknowledgement } from "../outbound/acknowledgement-settings.ts";

// PGlite returns Uint8Array for bytea and postgres.js a Buffer: both leave here as Buffer.
export const bytea = customType<{ data: Buffer; driverData: Buffer | Uint8Array }>({
  dataType: () => "bytea",
  fromDriver: (v) => (Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength)),
});

const id = () => uuid("id").primaryKey().defaultRandom();
const createdAt = () => timestamp("created_at", { withTimezone: true, precision: 3 }).notNull().defaultNow();
const updatedAt = () => timestamp("updated_at", { withTimezone: true, precision: 3 }).notNull().defaultNow();
// Millisecond precision: a JS Date holds every stored value exactly, so list cursors are exact.
const ts = (name: string) => timestamp(name, { withTimezone: true, precision: 3 });

// ── directory ────────────────────────────────────────────────────────────────

export const companies = pgTable(
  "companies",
  {
    id: id(),
    name: text("name").notNull(),
    isDefault: boolean("is_default").notNull().default(false),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex("companies_one_default").on(t.isDefault).where(sql`${t.isDefault}`)],
);

export const companyDomains = pgTable(
  "company_domains",
  {
    domain: text("domain").primaryKey(),
    companyId: uuid("company_id")
      .notNull()
      .references(() => companies.id, { onDelete: "cascade" }),
    createdAt: createdAt(),
  },
  (t) => [index("company_domains_company").on(t.companyId)],
);

export const contacts = pgTable(
  "contacts",
  {
    id: id(),
    companyId: uuid("company_id")
      .notNull()
      .references(() => companies.id, { onDelete: "cascade" }),
    email: text("email").notNull(), // stored lower-case
    name: text("name"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex("contacts_company_email").on(t.companyId, t.email), index("contacts_email").on(t.email)],
);

export const techs = pgTable("techs", {
  id: id(),
  name: text("name").notNull(),
  email: text("email").notNull().unique(),
  active: boolean("active").notNull().default(true),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

export const jobTypes = pgTable("job_types", {
  id: id(),
  name: text("name").notNull().unique(),
  defaultPriority: text("default_priority"),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

// One row per settings document ("ticket_rules"); the value is validated by zod on the way in.
export const settings = pgTable("settings", {
  key: text("key").primaryKey(),
  value: jsonb("value").notNull(),
  updatedAt: updatedAt(),
});

// ── sources ──────────────────────────────────────────────────────────────────

export const mailSources = pgTable(
  "mail_sources",
  {
    id: id(),
    kind: text("kind").$type<SourceKind>().notNull(),
    name: text("name").notNull(),
    address: text("address").notNull(), // stored lower-case
    role: text("role").notNull(), // system | company
    companyId: uuid("company_id").references(() => companies.id, { onDelete: "restrict" }),
    config: jsonb("config").notNull().default({}), // non-secret provider settings
    secrets: bytea("secrets"), // AES-256-GCM sealed JSON of the provider's secrets
    schedule: jsonb("schedule").notNull().default({ mode: "continuous" }),
    status: text("status").$type<SourceStatus>().notNull().default("connecting"),
    lastError: text("last_error"),
    lastErrorAt: ts("last_error_at"),
    /** Since when the source has been failing (error or needs_reauth) without connecting again. */
    failingSince: ts("failing_since"),
    /** When source.failed (or source.needs_reauth) announced the current failing streak; null until then. */
    failureAnnouncedAt: ts("failure_announced_at"),
    /**
     * When the first authorization took the mailbox's starting point (Gmail, Graph): mail older than
     * this was already in the mailbox and is never ticketed. Re-authorization keeps it.
     */
    connectedAt: ts("connected_at"),
    lastSyncAt: ts("last_sync_at"),
    lastProcessedAt: ts("last_processed_at"),
    syncRequestedAt: ts("sync_requested_at"), // "Process Now": the source's owner runs a sync and clears it
    cursor: jsonb("cursor"), // provider cursor: IMAP {uidValidity,lastUid}, Gmail {historyId}, Graph {deltaLink}
    /** This mailbox's own acknowledgement, over the ticket rules' (MailboxAcknowledgement); null: the rules' as they are. */
    acknowledgement: jsonb("acknowledgement").$type<MailboxAcknowledgement>(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index("mail_sources_address").on(t.address)],
);

export const pushSubscriptions = pgTable(
  "push_subscriptions",
  {
    id: id(),
    sourceId: uuid("source_id")
      .notNull()
      .references(() => mailSources.id, { onDelete: "cascade" }),
    provider: text("provider").notNull(), // gmail | graph
    externalId: text("external_id").notNull(),
    resource: text("resource"),
    clientState: bytea("client_state"), // sealed
    expiresAt: ts("expires_at"),
    lastRenewedAt: ts("last_renewed_at"),
    status: text("status").$type<SubscriptionStatus>().notNull().default("active"),
    lastError: text("last_error"),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("push_subscriptions_external").on(t.provider, t.externalId)],
);

// OAuth2 authorization in flight: a single-use `state` bound to a source, with its PKCE verifier.
export const oauthStates = pgTable("oauth_states", {
  state: text("state").primaryKey(),
  sourceId: uuid("source_id")
    .notNull()
    .references(() => mailSources.id, { onDelete: "cascade" }),
  provider: text("provider").notNull(), // google | microsoft
  codeVerifier: bytea("code_verifier").notNull(), // sealed
  expiresAt: ts("expires_at").notNull(),
  createdAt: createdAt(),
});

// Durable work a provider signal asked for, recorded before the signal is acknowledged:
// a Gmail mailbox to sync (key "history"), a Graph message to fetch (key = immutable id), a
// Graph catch-up (key "delta"). Unique per source, kind and key, so repeats fold together.
export const syncRequests = pgTable(
  "sync_requests",
  {
    id: id(),
    sourceId: uuid("source_id")
      .notNull()
      .references(() => mailSources.id, { onDelete: "cascade" }),
    kind: text("kind").notNull(),
    key: text("key").notNull(),
    payload: jsonb("payload").notNull().default({}),
    attempts: integer("attempts").notNull().default(0),
    nextAttemptAt: ts("next_attempt_at").notNull().defaultNow(),
    lastError: text("last_error"),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("sync_requests_key").on(t.sourceId, t.kind, t.key), index("sync_requests_due").on(t.nextAttemptAt)],
);

// ── mail in ──────────────────────────────────────────────────────────────────

export const inboundMessages = pgTable(
  "inbound_messages",
  {
    id: id(),
    sourceId: uuid("source_id").references(() => mailSources.id, { onDelete: "set null" }),
    providerMessageId: text("provider_message_id").notNull(),
    raw: bytea("raw"), // null only after retention purged it
    rawSize: integer("raw_size").notNull(),
    rawSha256: text("raw_sha256").notNull(),
    status: text("status").$type<InboundStatus>().notNull().default("received"),
    reason: text("reason"),
    error: text("error"),
    attempts: integer("attempts").notNull().default(0),
    nextAttemptAt: ts("next_attempt_at").notNull().defaultNow(),
    messageId: text("message_id"), // normalised: the header's at intake, the parsed one after
    fromAddress: text("from_address"),
    subject: text("subject"),
    ticketId: uuid("ticket_id").references(() => tickets.id, { onDelete: "set null" }),
    duplicateOf: uuid("duplicate_of"),
    /** How the mail was handed over, for channels that have an envelope (the SMTP listener); null for the others. */
    envelope: jsonb("envelope").$type<InboundEnvelope>(),
    receivedAt: ts("received_at").notNull().defaultNow(),
    processedAt: ts("processed_at"),
    rawPurgedAt: ts("raw_purged_at"),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex("inbound_messages_provider").on(t.sourceId, t.providerMessageId),
    index("inbound_messages_claim").on(t.nextAttemptAt).where(sql`${t.status} = 'received'`),
    index("inbound_messages_waiting_message_id").on(t.messageId).where(sql`${t.status} = 'received'`),
    index("inbound_messages_status").on(t.status, t.createdAt),
    // GET /api/stats: a source's mail in a window, and its last (countReceived, listStatsSources);
    // processed mail by when, with what the counts and the latency read (countProcessed).
    index("inbound_messages_source_received").on(t.sourceId, t.receivedAt),
    index("inbound_messages_processed").on(t.processedAt, t.status, t.receivedAt).where(sql`${t.processedAt} is not null`),
  ],
);

// ── tickets ──────────────────────────────────────────────────────────────────

export const ticketNumberSeq = pgSequence("ticket_number_seq", { startWith: 1000 });
export const roundRobinSeq = pgSequence("round_robin_seq", { startWith: 0, minValue: 0 });

export const tickets = pgTable(
  "tickets",
  {
    id: id(),
    number: bigint("number", { mode: "number" })
      .notNull()
      .unique()
      .default(sql`nextval('ticket_number_seq')`),
    subject: text("subject").notNull(),
    status: text("status").$type<TicketStatus>().notNull().default("open"),
    priority: text("priority").notNull(),
    jobType: text("job_type").notNull(),
    companyId: uuid("company_id").references(() => companies.id, { onDelete: "set null" }),
    contactId: uuid("contact_id").references(() => contacts.id, { onDelete: "set null" }),
    assigneeId: uuid("assignee_id").references(() => techs.id, { onDelete: "set null" }),
    sourceId: uuid("source_id").references(() => mailSources.id, { onDelete: "set null" }),
    unmapped: boolean("unmapped").notNull().default(false),
    participants: jsonb("participants").notNull().default([]), // lower-case addresses seen on the ticket
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    closedAt: ts("closed_at"),
  },
  (t) => [
    index("tickets_company").on(t.companyId, t.createdAt),
    index("tickets_unmapped").on(t.unmapped).where(sql`${t.unmapped}`),
    // The tickets list, newest first, whole or by source (by company: tickets_company).
    index("tickets_created").on(t.createdAt, t.id),
    index("tickets_source").on(t.sourceId, t.createdAt),
  ],
);

export const ticketMessages = pgTable(
  "ticket_messages",
  {
    id: id(),
    ticketId: uuid("ticket_id")
      .notNull()
      .references(() => tickets.id, { onDelete: "cascade" }),
    inboundMessageId: uuid("inbound_message_id").references(() => inboundMessages.id, { onDelete: "set null" }),
    direction: text("direction").$type<MessageDirection>().notNull().default("inbound"),
    /** The outgoing message this is, when mailgate sent it (its status and attempts live there). */
    outboundMessageId: uuid("outbound_message_id").references((): AnyPgColumn => outboundMessages.id, { onDelete: "set null" }),
    kind: text("kind").$type<MessageKind>().notNull(),
    fromAddress: text("from_address").notNull(),
    fromName: text("from_name"),
    to: jsonb("to").notNull().default([]),
    cc: jsonb("cc").notNull().default([]),
    subject: text("subject").notNull(),
    text: text("text"),
    html: text("html"),
    messageId: text("message_id").notNull(),
    /** The Message-ID with the case its sender wrote, when that differs from the normal form: what our replies' thread headers repeat. */
    messageIdAsWritten: text("message_id_as_written"),
    skippedAttachments: jsonb("skipped_attachments").notNull().default([]),
    receivedAt: ts("received_at").notNull(),
    createdAt: createdAt(),
  },
  (t) => [index("ticket_messages_ticket").on(t.ticketId, t.createdAt), uniqueIndex("ticket_messages_inbound").on(t.inboundMessageId)],
);

// Every normalised Message-ID mailgate has seen, once: the primary key is what makes a second copy
// of the same email a duplicate, whatever the arrival order or the number of workers.
export const messageIds = pgTable("message_ids", {
  messageId: text("message_id").primaryKey(),
  inboundMessageId: uuid("inbound_message_id").references(() => inboundMessages.id, { onDelete: "set null" }),
  ticketId: uuid("ticket_id").references(() => tickets.id, { onDelete: "cascade" }),
  createdAt: createdAt(),
}, (t) => [index("message_ids_ticket").on(t.ticketId)]);

export const attachmentBlobs = pgTable("attachment_blobs", {
  sha256: text("sha256").primaryKey(),
  size: integer("size").notNull(),
  content: bytea("content").notNull(),
  createdAt: createdAt(),
});

export const attachments = pgTable(
  "attachments",
  {
    id: id(),
    ticketMessageId: uuid("ticket_message_id")
      .notNull()
      .references(() => ticketMessages.id, { onDelete: "cascade" }),
    // filename: safeAttachmentFilename's (rows older than original_filename hold the raw name, made
    // safe when read); originalFilename: the sender's, null when the part had none.
    filename: text("filename").notNull(),
    originalFilename: text("original_filename"),
    contentType: text("content_type").notNull(),
    size: integer("size").notNull(),
    sha256: text("sha256")
      .notNull()
      .references(() => attachmentBlobs.sha256),
    contentId: text("content_id"),
    inline: boolean("inline").notNull().default(false),
    createdAt: createdAt(),
  },
  (t) => [index("attachments_message").on(t.ticketMessageId)],
);

export const leads = pgTable("leads", {
  id: id(),
  email: text("email").notNull(),
  name: text("name"),
  domain: text("domain").notNull(),
  subject: text("subject").notNull(),
  inboundMessageId: uuid("inbound_message_id").references(() => inboundMessages.id, { onDelete: "set null" }),
  createdAt: createdAt(),
});

// ── outgoing mail ────────────────────────────────────────────────────────────

// The outbox of outgoing mail: a tech's reply or a ticket's acknowledgement, sent through its
// source's provider by whichever sender claims it (FOR UPDATE SKIP LOCKED and a lease, as
// deliveries are). The MIME is built once and kept, so every attempt sends the same bytes with
// the same Message-ID; an acknowledgement queued by the pipeline is built by its first claim.
export const outboundMessages = pgTable(
  "outbound_messages",
  {
    id: id(),
    /** Null only for the acknowledgement of a lead (acknowledgeLeads), which has no ticket. */
    ticketId: uuid("ticket_id").references(() => tickets.id, { onDelete: "cascade" }),
    sourceId: uuid("source_id").references(() => mailSources.id, { onDelete: "set null" }),
    kind: text("kind").$type<OutboundKind>().notNull(),
    status: text("status").$type<OutboundStatus>().notNull().default("queued"),
    /** The mail an acknowledgement answers. */
    inReplyToInboundId: uuid("in_reply_to_inbound_id").references(() => inboundMessages.id, { onDelete: "set null" }),
    /** The first recipient, lower case: what the acknowledgements' per-sender limit counts. */
    recipient: text("recipient").notNull(),
    /** Normalised, like every stored Message-ID; null until the MIME is built. */
    messageId: text("message_id"),
    raw: bytea("raw"),
    /** To and Cc addresses as written in the MIME; Bcc ones travel in the envelope only. */
    to: jsonb("to").$type<string[]>().notNull().default([]),
    cc: jsonb("cc").$type<string[]>().notNull().default([]),
    bcc: jsonb("bcc").$type<string[]>().notNull().default([]),
    subject: text("subject"),
    /** The provider's thread to send in (Gmail's threadId), when the ticket's mail came from there. */
    providerThreadId: text("provider_thread_id"),
    idempotencyKey: text("idempotency_key"),
    /** A hash of the request an Idempotency-Key was first used with: the same key with another body is refused. */
    requestHash: text("request_hash"),
    attempts: integer("attempts").notNull().default(0),
    nextAttemptAt: ts("next_attempt_at").notNull().defaultNow(),
    leasedUntil: ts("leased_until"),
    providerId: text("provider_id"),
    lastError: text("last_error"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    sentAt: ts("sent_at"),
  },
  (t) => [
    index("outbound_messages_due").on(t.nextAttemptAt).where(sql`${t.status} in ('queued', 'sending')`),
    index("outbound_messages_ticket").on(t.ticketId, t.createdAt),
    index("outbound_messages_status").on(t.status, t.createdAt),
    index("outbound_messages_source_waiting").on(t.sourceId).where(sql`${t.status} = 'waiting_for_authorization'`),
    index("outbound_messages_recipient").on(t.recipient, t.createdAt).where(sql`${t.kind} = 'acknowledgement'`),
    // GET /api/stats: mail sent in a window (countOutbound).
    index("outbound_messages_sent").on(t.sentAt).where(sql`${t.sentAt} is not null`),
    uniqueIndex("outbound_messages_idempotency_key").on(t.idempotencyKey),
    // One acknowledgement per mail, however often it is processed.
    uniqueIndex("outbound_messages_acknowledgement").on(t.inReplyToInboundId).where(sql`${t.kind} = 'acknowledgement'`),
  ],
);

export const outboundAttempts = pgTable(
  "outbound_attempts",
  {
    id: id(),
    outboundMessageId: uuid("outbound_message_id")
      .notNull()
      .references(() => outboundMessages.id, { onDelete: "cascade" }),
    attemptedAt: ts("attempted_at").notNull().defaultNow(),
    /** sent | transient | permanent | waiting_for_authorization */
    outcome: text("outcome").notNull(),
    error: text("error"),
    providerId: text("provider_id"),
    durationMs: integer("duration_ms").notNull(),
  },
  (t) => [index("outbound_attempts_message").on(t.outboundMessageId, t.attemptedAt)],
);

// ── outbox and delivery ──────────────────────────────────────────────────────

export const events = pgTable(
  "events",
  {
    id: text("id").primaryKey(), // the webhook-id: "evt_" + random, the same on every retry
    type: text("type").notNull(),
    companyId: uuid("company_id"),
    payload: jsonb("payload").notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    index("events_created").on(t.createdAt),
    // A ticket's events (its page lists their deliveries): each names it at data.ticket.id.
    // The same expression as eventTicketId (ticket-deliveries.ts), which the planner must see to use it.
    index("events_ticket").on(sql`(${t.payload} #>> '{data,ticket,id}')`),
  ],
);

export const webhookEndpoints = pgTable("webhook_endpoints", {
  id: id(),
  url: text("url").notNull(),
  events: text("events").array(), // null = every event type
  companyId: uuid("company_id").references(() => companies.id, { onDelete: "cascade" }),
  description: text("description"),
  enabled: boolean("enabled").notNull().default(true),
  disabledReason: text("disabled_reason"),
  secret: bytea("secret").notNull(), // sealed
  previousSecret: bytea("previous_secret"), // sealed; still signed with until previous_secret_expires_at
  previousSecretExpiresAt: ts("previous_secret_expires_at"),
  failingSince: ts("failing_since"),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

export const webhookDeliveries = pgTable(
  "webhook_deliveries",
  {
    id: id(),
    eventId: text("event_id")
      .notNull()
      .references(() => events.id, { onDelete: "cascade" }),
    endpointId: uuid("endpoint_id")
      .notNull()
      .references(() => webhookEndpoints.id, { onDelete: "cascade" }),
    status: text("status").$type<DeliveryStatus>().notNull().default("pending"),
    attempts: integer("attempts").notNull().default(0),
    nextAttemptAt: ts("next_attempt_at").notNull().defaultNow(),
    // In flight until then (a dispatcher's claim): a column no index reads, so the claim rewrites
    // the row in place (a HOT update) instead of adding an entry to each of its indexes.
    leasedUntil: ts("leased_until"),
    lastStatusCode: integer("last_status_code"),
    lastError: text("last_error"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    completedAt: ts("completed_at"),
  },
  (t) => [
    uniqueIndex("webhook_deliveries_event_endpoint").on(t.eventId, t.endpointId),
    index("webhook_deliveries_endpoint_due").on(t.endpointId, t.nextAttemptAt).where(sql`${t.status} = 'pending'`),
    index("webhook_deliveries_endpoint").on(t.endpointId, t.createdAt),
  ],
);

export const webhookAttempts = pgTable(
  "webhook_attempts",
  {
    id: id(),
    deliveryId: uuid("delivery_id")
      .notNull()
      .references(() => webhookDeliveries.id, { onDelete: "cascade" }),
    attemptedAt: ts("attempted_at").notNull().defaultNow(),
    statusCode: integer("status_code"),
    durationMs: integer("duration_ms").notNull(),
    responseBody: text("response_body"),
    error: text("error"),
  },
  (t) => [
    index("webhook_attempts_delivery").on(t.deliveryId, t.attemptedAt),
    // GET /api/stats's attempts in a window (countDeliveryAttempts), and retention's oldest ones.
    index("webhook_attempts_attempted").on(t.attemptedAt, t.statusCode),
  ],
);

// ── operations ───────────────────────────────────────────────────────────────

export const errorLog = pgTable(
  "error_log",
  {
    id: id(),
    at: ts("at").notNull().defaultNow(),
    sourceId: uuid("source_id"),
    kind: text("kind").$type<ErrorKind>().notNull(),
    message: text("message").notNull(),
    details: jsonb("details"),
  },
  (t) => [index("error_log_at").on(t.at), index("error_log_source").on(t.sourceId, t.at)],
);

// Single-owner work (an IMAP IDLE connection, a renewal run) is held through a lease row.
export const leases = pgTable(
  "leases",
  {
    name: text("name").notNull(),
    holder: text("holder").notNull(),
    expiresAt: ts("expires_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.name] })],
);
