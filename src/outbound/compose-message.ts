// The two kinds of outgoing message, composed from a ticket's reply context: a tech's reply and
// the acknowledgement of a new ticket. Both go from the source's own address, in the ticket's
// thread, with the ticket's tag in the subject, so the customer's answer threads back by header
// or by subject. Pure: the caller builds the MIME (build-message.ts) and stores it.
import type { AcknowledgementSettings } from "./acknowledgement-settings.ts";
import type { ReplyContext } from "../db/reply-context.ts";
import { renderHtmlTemplate, renderSubjectTemplate, renderTemplate, type TemplateValues } from "./acknowledgement-template.ts";
import type { OutboundAddress, OutboundAttachment, OutboundMessage } from "./build-message.ts";
import { NO_SUBJECT, replySubject } from "./reply-subject.ts";
import type { TicketRules } from "../settings/ticket-rules.ts";
import { addressDomain, outboundMessageId } from "./thread-headers.ts";

/** The mailbox a message goes out from: the source's address, with its name as display name. */
export type Sender = { address: string; name: string };

export type ReplyBody = {
  text: string;
  html?: string | null;
  cc?: string[];
  bcc?: string[];
  attachments?: OutboundAttachment[];
};

export function composeReply(context: ReplyContext, from: Sender, to: OutboundAddress, body: ReplyBody, now: Date): OutboundMessage {
  const { ticket, rules } = context;
  return {
    messageId: newMessageId(from),
    from,
    to: [to],
    cc: (body.cc ?? []).map((address) => ({ address })),
    bcc: (body.bcc ?? []).map((address) => ({ address })),
    subject: replySubject(ticket.subject, ticket.number, rules.ticketSubjectTag),
    text: body.text,
    html: body.html ?? null,
    thread: context.thread,
    attachments: body.attachments ?? [],
    automatic: false,
    date: now,
  };
}

/** The acknowledgement of a new ticket to `to`, from the templates in the rules, or the mailbox's own over them. */
export function composeAcknowledgement(
  context: ReplyContext,
  from: Sender,
  to: OutboundAddress,
  now: Date,
  templates: AcknowledgementSettings = context.rules.acknowledgement,
): OutboundMessage {
  const { ticket, rules } = context;
  const values: TemplateValues = {
    "ticket.number": ticket.number,
    "ticket.subject": ticket.subject,
    "contact.name": to.name ?? context.customer?.name ?? null,
    "company.name": context.companyName,
    "source.address": from.address,
  };
  return {
    messageId: newMessageId(from),
    from,
    to: [to],
    subject: renderSubjectTemplate(templates.subject, values, { number: ticket.number, tag: rules.ticketSubjectTag }),
    text: renderTemplate(templates.text, values),
    html: templates.html ? renderHtmlTemplate(templates.html, values) : null,
    thread: context.thread,
    automatic: true,
    date: now,
  };
}

/** The mail a lead came from: a lead has no ticket, so no number and no tag in the subject. */
export type LeadMail = { subject: string; messageId: string | null };

/** The acknowledgement of a lead (acknowledgeLeads): the same templates, with no ticket number. */
export function composeLeadAcknowledgement(
  mail: LeadMail,
  rules: TicketRules,
  from: Sender,
  to: OutboundAddress,
  now: Date,
  templates: AcknowledgementSettings = rules.acknowledgement,
): OutboundMessage {
  const values: TemplateValues = { "ticket.subject": mail.subject, "contact.name": to.name ?? null, "source.address": from.address };
  const subject = renderTemplate(templates.subject, values).replace(/[\s\p{Cc}]+/gu, " ").trim() || NO_SUBJECT;
  return {
    messageId: newMessageId(from),
    from,
    to: [to],
    subject: /^re:/i.test(subject) ? subject : `Re: ${subject}`,
    text: renderTemplate(templates.text, values),
    html: templates.html ? renderHtmlTemplate(templates.html, values) : null,
    thread: mail.messageId ? [mail.messageId] : [],
    automatic: true,
    date: now,
  };
}

/** At the source's own domain: the mail is that mailbox's mail. */
function newMessageId(from: Sender): string {
  const domain = addressDomain(from.address);
  if (!domain) throw new Error(`the source's address ${JSON.stringify(from.address)} has no domain to make a Message-ID at`);
  return outboundMessageId(domain);
}
