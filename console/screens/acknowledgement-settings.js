// The Acknowledgements part of Ticket rules (settings.acknowledgement): the templates and limits,
// and beside them the mail a customer would get for a sample ticket, rendered as the server does.
import { h, replace } from "../dom.js";
import { checked, field, value } from "../forms.js";
import { PLACEHOLDERS, renderHtmlTemplate, renderSubjectTemplate, renderTemplate } from "./acknowledgement-template.js";

const SAMPLE_TICKET = { number: 1042, subject: "Printer on 2nd floor is offline", contact: "Jane Doe", company: "Contoso" };
export const SAMPLE_ADDRESS = "support@example.com";

const PLACEHOLDER_LIST = PLACEHOLDERS.map((p) => `{{${p}}}`).join(", ");

/**
 * The fieldset and update(), which renders the preview from what the fieldset holds now; `tag`
 * reads the ticket subject tag the rules would be saved with, `address` stands for the source.
 */
export function acknowledgementFieldset(ack, address, tag) {
  const preview = previewPanel();
  const fieldset = h(
    "fieldset",
    { class: "acknowledgement" },
    h("legend", {}, "Acknowledgements"),
    h(
      "p",
      { class: "help" },
      "A new ticket's sender gets this reply, through the source the mail came in on when that source can send: Gmail, Microsoft 365, or an IMAP or API source with SMTP settings. " +
        "Never acknowledged: notes on existing tickets, auto-replies and bounces, bulk and mailing-list mail, no-reply senders, and mail from mailgate's own addresses.",
    ),
    h(
      "div",
      { class: "with-preview" },
      h(
        "div",
        {},
        field({ label: "Send an acknowledgement for each new ticket", name: "acknowledgement.enabled", type: "checkbox", value: ack.enabled }),
        field({ label: "Subject", name: "acknowledgement.subject", value: ack.subject, required: true, help: "Sent as a reply: the ticket subject tag and number are put in front when missing, so the customer's answer comes back to the ticket." }),
        field({ label: "Text", name: "acknowledgement.text", type: "textarea", rows: 9, value: ack.text, required: true, help: `Placeholders: ${PLACEHOLDER_LIST}.` }),
        field({ label: "HTML (optional)", name: "acknowledgement.html", type: "textarea", rows: 4, value: ack.html ?? "", help: "Sent beside the text for mail clients that show HTML; the values put in are escaped." }),
        field({ label: "Acknowledgements per sender per hour", name: "acknowledgement.perSenderPerHour", type: "number", min: 1, max: 100, step: 1, value: ack.perSenderPerHour, required: true, help: "Default 3: more mail from one sender in an hour goes unanswered, which ends any mail loop." }),
        field({ label: "Also acknowledge mail that creates a lead", name: "acknowledgement.acknowledgeLeads", type: "checkbox", value: ack.acknowledgeLeads }),
      ),
      preview.panel,
    ),
  );
  return { fieldset, update: () => preview.show(readTemplates(fieldset), tag(), address) };
}

/** The settings.acknowledgement block of a PUT: replaced whole, so an empty HTML removes it. */
export function readAcknowledgement(form) {
  const { enabled, subject, text, html } = readTemplates(form);
  return {
    enabled,
    subject,
    text,
    ...(html.trim() ? { html } : {}),
    acknowledgeLeads: checked(form, "acknowledgement.acknowledgeLeads"),
    perSenderPerHour: Number(value(form, "acknowledgement.perSenderPerHour")),
  };
}

// Templates as typed: their spaces and line breaks are the operator's.
function readTemplates(form) {
  const raw = (name) => form.elements.namedItem(name).value;
  return { enabled: checked(form, "acknowledgement.enabled"), subject: raw("acknowledgement.subject"), text: raw("acknowledgement.text"), html: raw("acknowledgement.html") };
}

function previewPanel() {
  const state = h("p", { class: "help" });
  const from = h("dd", {});
  const subject = h("dd", { class: "preview-subject" });
  const text = h("pre", { class: "preview-text" });
  const html = h("div", {});
  let shownHtml = null;
  const panel = h(
    "section",
    { class: "preview", "aria-labelledby": "ack-preview-title" },
    h("h3", { id: "ack-preview-title" }, "Preview"),
    h("p", { class: "help" }, `Ticket #${SAMPLE_TICKET.number} "${SAMPLE_TICKET.subject}" from ${SAMPLE_TICKET.contact} of ${SAMPLE_TICKET.company}.`),
    state,
    h("dl", { class: "preview-head" }, h("dt", {}, "From"), from, h("dt", {}, "To"), h("dd", {}, SAMPLE_TICKET.contact), h("dt", {}, "Subject"), subject),
    text,
    html,
  );
  const show = (templates, tag, address) => {
    const values = {
      "ticket.number": SAMPLE_TICKET.number,
      "ticket.subject": SAMPLE_TICKET.subject,
      "contact.name": SAMPLE_TICKET.contact,
      "company.name": SAMPLE_TICKET.company,
      "source.address": address,
    };
    replace(state, templates.enabled ? "On: the sender of each new ticket gets this mail." : "Off: nothing is sent.");
    replace(from, address);
    replace(subject, renderSubjectTemplate(templates.subject, values, { number: SAMPLE_TICKET.number, tag }));
    replace(text, renderTemplate(templates.text, values));
    const srcdoc = templates.html.trim() === "" ? null : renderHtmlTemplate(templates.html, values);
    if (srcdoc === shownHtml) return;
    shownHtml = srcdoc;
    replace(html, srcdoc === null ? h("p", { class: "help" }, "No HTML part: every mail client shows the text.") : htmlFrame(srcdoc));
  };
  return { panel, show };
}

/**
 * The HTML part in a frame sandboxed with nothing allowed (no scripts, an origin of its own) and
 * under the console's own policy, so the operator's markup is shown, never run; its inline styles
 * are not applied either. A new frame each time, never one kept hidden: Chromium left a sandboxed
 * frame that loaded a srcdoc while hidden blank when it was shown with the next one.
 */
function htmlFrame(srcdoc) {
  return h("iframe", { class: "preview-html", sandbox: "", title: "HTML preview", srcdoc });
}
