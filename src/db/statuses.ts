// The words stored in mailgate's status and kind columns, shared by the schema (typed columns),
// the API's validation and the code that decides them.

export const SOURCE_KINDS = ["imap", "gmail", "graph", "api"] as const;
export type SourceKind = (typeof SOURCE_KINDS)[number];

export const SOURCE_STATUSES = ["connected", "connecting", "error", "needs_reauth", "disabled"] as const;
export type SourceStatus = (typeof SOURCE_STATUSES)[number];

/** A push subscription (a Gmail watch, a Graph subscription). */
export const SUBSCRIPTION_STATUSES = ["active", "failing", "removed"] as const;
export type SubscriptionStatus = (typeof SUBSCRIPTION_STATUSES)[number];

export const INBOUND_STATUSES = ["received", "ticket_created", "note_added", "lead_created", "duplicate", "ignored", "unrouted", "failed"] as const;
export type InboundStatus = (typeof INBOUND_STATUSES)[number];

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
