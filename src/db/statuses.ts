// The words stored in mailgate's status and kind columns, shared by the schema (typed columns),
// the API's validation and the code that decides them.

export const SOURCE_KINDS = ["imap", "gmail", "graph", "api", "smtp", "inbound-webhook"] as const;
export type SourceKind = (typeof SOURCE_KINDS)[number];

export const SOURCE_STATUSES = ["connected", "connecting", "error", "needs_reauth", "disabled"] as const;
export type SourceStatus = (typeof SOURCE_STATUSES)[number];

/** A push subscription (a Gmail watch, a Graph subscription). */
export const SUBSCRIPTION_STATUSES = ["active", "failing", "removed"] as const;
export type SubscriptionStatus = (typeof SUBSCRIPTION_STATUSES)[number];

export const INBOUND_STATUSES = ["received", "ticket_created", "note_added", "lead_created", "duplicate", "ignored", "unrouted", "failed"] as const;
export type InboundStatus = (typeof INBOUND_STATUSES)[number];

/**
 * The SMTP envelope of a mail received by the listener: MAIL FROM ("" for the null sender), the
 * accepted RCPT TO addresses, the client's IP address, its HELO/EHLO name, whether the session was
 * TLS, and the AUTH user it signed in as (null when it did not).
 */
export type InboundEnvelope = {
  mailFrom: string;
  rcptTo: string[];
  clientAddress: string;
  helo: string;
  tls: boolean;
  authUser: string | null;
};

export const TICKET_STATUSES = ["open", "closed"] as const;
export type TicketStatus = (typeof TICKET_STATUSES)[number];

export const MESSAGE_KINDS = ["initial", "reply", "auto_reply", "bounce"] as const;
export type MessageKind = (typeof MESSAGE_KINDS)[number];

export const DELIVERY_STATUSES = ["pending", "succeeded", "exhausted", "cancelled"] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** What an error log entry is about; the API's `kind`. */
export const ERROR_KINDS = [
  "connection_failed",
  "message_failed",
  "message_too_large",
  "post_process_failed",
  "delivery_failed",
  "renewal_failed",
  "retention_failed",
  "security",
] as const;
export type ErrorKind = (typeof ERROR_KINDS)[number];

/** Which way a ticket message went: mail that came in, or mail mailgate sent (a reply, an acknowledgement). */
export const MESSAGE_DIRECTIONS = ["inbound", "outbound"] as const;
export type MessageDirection = (typeof MESSAGE_DIRECTIONS)[number];

/** An outgoing message: a tech's reply, or the acknowledgement of a new ticket. */
export const OUTBOUND_KINDS = ["reply", "acknowledgement"] as const;
export type OutboundKind = (typeof OUTBOUND_KINDS)[number];

/**
 * queued: waits for its turn (or for a retry); sending: claimed by a sender; sent: the provider
 * accepted it; failed: refused for good (the provider's words in lastError);
 * waiting_for_authorization: the source must be authorized again (or allowed to send) first.
 */
export const OUTBOUND_STATUSES = ["queued", "sending", "sent", "failed", "waiting_for_authorization"] as const;
export type OutboundStatus = (typeof OUTBOUND_STATUSES)[number];
