// The ticket creation rules of the product guide ("Ticket Creation Rules", "Unmapped Domains",
// "Attachments Missing"), stored as one settings document. Defaults are the guide's.
import { z } from "zod";
import { acknowledgementSettingsSchema, DEFAULT_ACKNOWLEDGEMENT } from "../outbound/acknowledgement-settings.ts";

export const PRIORITIES = ["low", "normal", "high", "urgent"] as const;
export type Priority = (typeof PRIORITIES)[number];

export const ticketRulesSchema = z
  .object({
    defaultPriority: z.enum(PRIORITIES),
    defaultJobType: z.string().trim().min(1).max(200),
    autoAssign: z.discriminatedUnion("mode", [
      z.object({ mode: z.literal("none") }).strict(),
      z.object({ mode: z.literal("specific"), techId: z.uuid("expected a tech id") }).strict(),
      z.object({ mode: z.literal("round_robin") }).strict(),
    ]),
    attachments: z
      .object({
        mode: z.enum(["save", "ignore"]),
        maxBytes: z.number().int().min(1).max(1024 * 1024 * 1024),
        // Extensions (".pdf") or MIME types ("application/pdf", "image/*"); empty = every type.
        allowedTypes: z.array(z.string().trim().min(1).max(200)).max(500),
      })
      .strict(),
    unmappedDomains: z.discriminatedUnion("mode", [
      z
        .object({
          mode: z.literal("default_company"),
          // null: fall back to the company flagged isDefault; with neither, mail is kept as `unrouted`.
          defaultCompanyId: z.uuid("expected a company id").nullable(),
        })
        .strict(),
      z.object({ mode: z.literal("lead") }).strict(),
    ]),
    // Written inside "[ ]" in subjects, mailgate's own replies included: a bracket or a line
    // break would make a subject that cannot be read back (or a header that breaks).
    ticketSubjectTag: z
      .string()
      .min(1)
      .max(50)
      .regex(/^[^[\]\p{Cc}]*$/u, "the tag is written inside [ ] in subjects: it cannot hold [, ] or control characters such as line breaks")
      .refine((tag) => /[^\s]/u.test(tag), "the tag needs a visible character"),
    createContacts: z.boolean(),
    /** Whether new tickets are answered with an acknowledgement, and with what (outgoing mail). */
    acknowledgement: acknowledgementSettingsSchema,
  })
  .strict();

export type TicketRules = z.infer<typeof ticketRulesSchema>;

export const DEFAULT_TICKET_RULES: TicketRules = {
  defaultPriority: "normal",
  defaultJobType: "Support Request",
  autoAssign: { mode: "none" },
  attachments: { mode: "save", maxBytes: 25 * 1024 * 1024, allowedTypes: [] },
  unmappedDomains: { mode: "default_company", defaultCompanyId: null },
  ticketSubjectTag: "Ticket #",
  createContacts: true,
  acknowledgement: DEFAULT_ACKNOWLEDGEMENT,
};
