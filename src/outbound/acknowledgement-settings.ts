// The acknowledgement settings document (`settings.acknowledgement`): whether new tickets are
// acknowledged, with which templates, and the per-sender limit that ends any mail loop the
// acknowledgement policy misses. Off by default: mail a customer did not expect is the operator's
// choice. A template naming an unknown placeholder is refused here, so a typo is a 400, not a mail.
import { z } from "zod";
import { PLACEHOLDERS, unknownPlaceholders } from "./acknowledgement-template.ts";

function template(maxLength: number) {
  return z
    .string()
    .max(maxLength)
    .superRefine((value, ctx) => {
      for (const name of unknownPlaceholders(value)) {
        ctx.addIssue({ code: "custom", message: `unknown placeholder {{${name}}}; expected one of ${PLACEHOLDERS.map((p) => `{{${p}}}`).join(", ")}` });
      }
    });
}

export const acknowledgementSettingsSchema = z
  .object({
    enabled: z.boolean(),
    /** Made a reply subject when sent (renderSubjectTemplate): the ticket's tag is added if missing. */
    subject: template(500).refine((s) => s.trim() !== "", "expected a subject template"),
    text: template(20_000).refine((s) => s.trim() !== "", "expected a text template"),
    html: template(100_000).optional(),
    acknowledgeLeads: z.boolean().default(false),
    perSenderPerHour: z.number().int().min(1).max(100).default(3),
  })
  .strict();

export type AcknowledgementSettings = z.infer<typeof acknowledgementSettingsSchema>;

/**
 * A mailbox's own acknowledgement (a source's `acknowledgement`): what it sets replaces the ticket
 * rules' for mail that arrives through it; what it leaves out is the rules'. A company mailbox
 * answers in its company's words, or not at all (`enabled: false`) while others do. The per-sender
 * limit and acknowledgeLeads stay the rules'. Text and HTML are one body in two forms: a mailbox's
 * own text goes without the rules' HTML (a mail client would show that instead); `html: null`
 * sends text only.
 */
export const mailboxAcknowledgementSchema = z
  .object({
    enabled: z.boolean().optional(),
    subject: template(500)
      .refine((s) => s.trim() !== "", "expected a subject template, or leave it out to use the ticket rules'")
      .optional(),
    text: template(20_000)
      .refine((s) => s.trim() !== "", "expected a text template, or leave it out to use the ticket rules'")
      .optional(),
    html: template(100_000).nullable().optional(),
  })
  .strict();

export type MailboxAcknowledgement = z.infer<typeof mailboxAcknowledgementSchema>;

/** The acknowledgement for mail through a mailbox: the rules', with what the mailbox sets over it. */
export function acknowledgementFor(rules: AcknowledgementSettings, mailbox: MailboxAcknowledgement | null): AcknowledgementSettings {
  if (!mailbox) return rules;
  const { html: rulesHtml, ...rest } = { ...rules, ...Object.fromEntries(Object.entries(mailbox).filter(([, v]) => v !== undefined && v !== null)) };
  const html = mailbox.html !== undefined ? mailbox.html : mailbox.text !== undefined ? null : rulesHtml;
  return html === null || html === undefined ? rest : { ...rest, html };
}

export const DEFAULT_ACKNOWLEDGEMENT: AcknowledgementSettings = {
  enabled: false,
  subject: "{{ticket.subject}}",
  text: [
    "Thank you for your message. We have opened ticket {{ticket.number}} for it:",
    "",
    "  {{ticket.subject}}",
    "",
    "To add anything, reply to this email and keep the ticket number in the subject.",
    "",
    "This is an automatic reply to {{source.address}}.",
  ].join("\n"),
  acknowledgeLeads: false,
  perSenderPerHour: 3,
};
