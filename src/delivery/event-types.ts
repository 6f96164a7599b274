// The public webhook contract in code: one zod schema per event type's `data`, and the envelope
// around it. webhooks/schemas/*.schema.json are generated from here (npm run webhooks:schemas),
// so the TypeScript types, the JSON Schemas and the README's catalogue cannot drift apart.
//
// Consumers must tolerate additions: new fields, new event types and new enum values can appear
// without notice; a removal or a change of meaning is a new event type. That is why the published
// schemas do not forbid unknown properties.
import { z } from "zod";
import { PRIORITIES } from "../settings/ticket-rules.ts";
import { SOURCE_KINDS, SOURCE_STATUSES } from "../sources/source-config.ts";

export const EVENT_TYPES = [
  "ticket.created",
  "ticket.reply_received",
  "lead.created",
  "source.failed",
  "source.recovered",
  "source.needs_reauth",
  "subscription.renewal_failed",
  "message.sent",
  "message.failed",
  "webhook.test",
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

/** When each event fires; the description of its JSON Schema and of the README's catalogue. */
export const EVENT_DESCRIPTIONS: Record<EventType, string> = {
  "ticket.created": "An email opened a new ticket.",
  "ticket.reply_received": "An email was added to an existing ticket as a reply (and reopened it if it was closed).",
  "lead.created": "An email from an unknown domain became a lead instead of a ticket.",
  "source.failed": "A mail source stopped working (connection, authentication at the provider, quota).",
  "source.recovered": "A mail source that had failed works again.",
  "source.needs_reauth": "A mail source's OAuth grant was revoked or expired; an administrator must sign in again.",
  "subscription.renewal_failed": "A Gmail watch or Graph subscription could not be renewed; push notifications may stop until it is.",
  "message.sent": "An outgoing mail (a reply or an acknowledgement) was accepted by the source's provider.",
  "message.failed": "An outgoing mail was refused for good, or gave up after its retries; it is not sent unless retried (POST /api/outbound-messages/:id/retry).",
  "webhook.test": "Sent to one endpoint by POST /api/webhooks/:id/test; never sent on its own.",
};

const id = () => z.uuid();
const instant = () => z.iso.datetime();

const mailbox = z
  .object({
    address: z.string(),
    name: z.string().meta({ description: "Display name; empty when the header has none." }),
  })
  .meta({ id: "Mailbox" });

const message = z
  .object({
    id: id().meta({ description: "The stored message (GET /api/tickets/:id lists it under messages)." }),
    messageId: z.string().meta({ description: "The RFC 5322 Message-ID, normalised." }),
    from: mailbox,
    to: z.array(mailbox),
    cc: z.array(mailbox),
    subject: z.string(),
    text: z.string().nullable().meta({ description: "Plain-text body, at most 256 KiB of it (see truncated)." }),
    html: z.string().nullable().meta({ description: "HTML body, at most 256 KiB of it (see truncated)." }),
    truncated: z
      .boolean()
      .meta({ description: "True when text or html was cut at 256 KiB; GET /api/tickets/:id has the whole message." }),
    receivedAt: instant(),
  })
  .meta({ id: "Message" });

const attachment = z
  .object({
    id: id(),
    filename: z.string().min(1).meta({
      description:
        "Safe to show and to save as: no path separators, control or invisible characters (bidi overrides included), no characters Windows refuses, no leading dot, at most 255 bytes of UTF-8, never empty. The download's Content-Disposition carries the same name.",
    }),
    originalFilename: z
      .string()
      .nullable()
      .meta({
        description:
          "The name as the sender gave it, decoded but otherwise untouched (NUL characters aside; it may hold paths, line breaks or bidi overrides); null when the part had none. Untrusted text: display it escaped, never use it as a path or in a header.",
      }),
    contentType: z.string().meta({ description: "As the sender declared it; not checked against the bytes." }),
    size: z.int().nonnegative().meta({ description: "Bytes." }),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    url: z.url().meta({ description: "PUBLIC_URL/api/attachments/:id/content; needs the admin bearer token." }),
  })
  .meta({ id: "Attachment" });

const source = z
  .object({ id: id(), name: z.string(), kind: z.enum(SOURCE_KINDS), address: z.string() })
  .meta({ id: "Source" });

const sourceWithStatus = source.extend({ status: z.enum(SOURCE_STATUSES) }).meta({ id: "SourceWithStatus" });

const eventError = z
  .object({
    code: z.string().meta({ description: "Stable; branch on it." }),
    message: z.string().meta({ description: "For people; may change." }),
  })
  .meta({ id: "EventError" });

const ticketCreated = z.object({
  ticket: z.object({
    id: id(),
    number: z.int().positive(),
    subject: z.string(),
    status: z.enum(["open", "closed"]),
    priority: z.enum(PRIORITIES),
    jobType: z.string(),
    unmapped: z.boolean().meta({ description: "True when the sender's domain matched no company." }),
    createdAt: instant(),
    assignee: z.object({ id: id(), name: z.string(), email: z.string() }).nullable(),
  }),
  company: z.object({ id: id(), name: z.string() }).nullable(),
  contact: z.object({ id: id(), email: z.string(), name: z.string().nullable() }).nullable(),
  source: source.nullable(),
  message,
  attachments: z.array(attachment),
});

const replyReceived = z.object({
  ticket: z.object({
    id: id(),
    number: z.int().positive(),
    subject: z.string(),
    status: z.enum(["open", "closed"]),
    companyId: id().nullable(),
  }),
  message,
  attachments: z.array(attachment),
  reopened: z.boolean().meta({ description: "True when this reply reopened a closed ticket." }),
});

const leadCreated = z.object({
  lead: z.object({
    id: id(),
    email: z.string(),
    name: z.string().nullable(),
    domain: z.string(),
    subject: z.string(),
    createdAt: instant(),
  }),
  source: source.nullable(),
  message,
});

const sourceFailed = z.object({ source: sourceWithStatus, error: eventError, at: instant() });
const sourceRecovered = z.object({ source: sourceWithStatus, at: instant() });
const sourceNeedsReauth = z.object({ source: sourceWithStatus, error: eventError, at: instant() });

const renewalFailed = z.object({
  subscription: z.object({
    id: id(),
    sourceId: id(),
    provider: z.enum(["gmail", "graph"]),
    externalId: z.string().meta({ description: "The provider's own id for the watch or subscription." }),
    expiresAt: instant().nullable(),
  }),
  error: eventError,
  at: instant(),
});

const outboundMessage = z
  .object({
    id: id().meta({ description: "GET /api/outbound-messages/:id shows it with every attempt." }),
    kind: z.enum(["reply", "acknowledgement"]),
    status: z.enum(["sent", "failed"]),
    messageId: z.string().nullable().meta({ description: "Its RFC 5322 Message-ID, normalised; null if it failed before it was built." }),
    providerMessageId: z
      .string()
      .nullable()
      .meta({ description: "What the provider called it: Gmail's message id, the SMTP server's answer; null when the provider gives none (Microsoft 365)." }),
    to: z.array(z.string()),
    subject: z.string().nullable(),
    attempts: z.int().nonnegative(),
  })
  .meta({ id: "OutboundMessage" });

const outboundTicket = z.object({ id: id(), number: z.int().positive(), subject: z.string() }).nullable();

const messageSent = z.object({ ticket: outboundTicket, message: outboundMessage, source: source.nullable(), at: instant() });
const messageFailed = z.object({ ticket: outboundTicket, message: outboundMessage, source: source.nullable(), error: eventError, at: instant() });

const webhookTest = z.object({ message: z.string(), endpointId: id() });

export const eventDataSchemas = {
  "ticket.created": ticketCreated,
  "ticket.reply_received": replyReceived,
  "lead.created": leadCreated,
  "source.failed": sourceFailed,
  "source.recovered": sourceRecovered,
  "source.needs_reauth": sourceNeedsReauth,
  "subscription.renewal_failed": renewalFailed,
  "message.sent": messageSent,
  "message.failed": messageFailed,
  "webhook.test": webhookTest,
} as const satisfies Record<EventType, z.ZodType>;

export type EventData<T extends EventType> = z.infer<(typeof eventDataSchemas)[T]>;

/** The body of every delivery: `timestamp` is when the event happened, not when it was sent. */
export function envelopeSchema<T extends EventType>(type: T) {
  return z
    .object({
      type: z.literal(type),
      timestamp: instant().meta({ description: "When the event happened (ISO 8601, UTC)." }),
      data: eventDataSchemas[type],
    })
    .meta({ title: type, description: EVENT_DESCRIPTIONS[type] });
}

export type WebhookEnvelope = { [T in EventType]: { type: T; timestamp: string; data: EventData<T> } }[EventType];
