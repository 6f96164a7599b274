import { describe, expect, it } from "vitest";
import { acknowledgementFor, acknowledgementSettingsSchema, DEFAULT_ACKNOWLEDGEMENT, mailboxAcknowledgementSchema } from "../../../src/outbound/acknowledgement-settings.ts";
import { renderSubjectTemplate, renderTemplate, unknownPlaceholders } from "../../../src/outbound/acknowledgement-template.ts";

const VALID = { enabled: true, subject: "{{ticket.subject}}", text: "We opened ticket {{ticket.number}}." };

function problems(value: unknown): { path: string; message: string }[] {
  const result = acknowledgementSettingsSchema.safeParse(value);
  return result.success ? [] : result.error.issues.map((i) => ({ path: i.path.join("."), message: i.message }));
}

describe("acknowledgementSettingsSchema", () => {
  it("When only the required fields are given, then leads are not acknowledged and the limit is 3 an hour", () => {
    expect(acknowledgementSettingsSchema.parse(VALID)).toEqual({ ...VALID, acknowledgeLeads: false, perSenderPerHour: 3 });
  });

  it("When every field is given, then it is kept", () => {
    const full = { ...VALID, html: "<p>Ticket {{ticket.number}}</p>", acknowledgeLeads: true, perSenderPerHour: 10 };
    expect(acknowledgementSettingsSchema.parse(full)).toEqual(full);
  });

  it("When the per-sender limit is outside 1 to 100 or not whole, then it is refused", () => {
    for (const perSenderPerHour of [0, 101, 2.5, -1, "3"]) {
      expect(problems({ ...VALID, perSenderPerHour }).map((p) => p.path), String(perSenderPerHour)).toEqual(["perSenderPerHour"]);
    }
    expect(problems({ ...VALID, perSenderPerHour: 1 })).toEqual([]);
    expect(problems({ ...VALID, perSenderPerHour: 100 })).toEqual([]);
  });

  it("When a template names an unknown placeholder, then the field is refused with the name and the known ones", () => {
    expect(problems({ ...VALID, text: "Hi {{contact.email}}", html: "{{ticket.id}}" })).toEqual([
      { path: "text", message: "unknown placeholder {{contact.email}}; expected one of {{ticket.number}}, {{ticket.subject}}, {{contact.name}}, {{company.name}}, {{source.address}}" },
      { path: "html", message: expect.stringMatching(/^unknown placeholder \{\{ticket\.id\}\}/) },
    ]);
  });

  it("When the subject or text is blank, then it is refused", () => {
    expect(problems({ ...VALID, subject: "  ", text: "" }).map((p) => p.path)).toEqual(["subject", "text"]);
  });

  it("When enabled is missing or a field is unknown, then it is refused", () => {
    expect(problems({ subject: VALID.subject, text: VALID.text }).map((p) => p.path)).toEqual(["enabled"]);
    expect(problems({ ...VALID, sendTo: "x@acme.com" }).length).toBeGreaterThan(0);
  });
});

describe("DEFAULT_ACKNOWLEDGEMENT", () => {
  it("When nothing is configured, then acknowledgements are off and the defaults pass the schema", () => {
    expect(DEFAULT_ACKNOWLEDGEMENT.enabled).toBe(false);
    expect(acknowledgementSettingsSchema.parse(DEFAULT_ACKNOWLEDGEMENT)).toEqual(DEFAULT_ACKNOWLEDGEMENT);
    expect(unknownPlaceholders(DEFAULT_ACKNOWLEDGEMENT.subject + DEFAULT_ACKNOWLEDGEMENT.text)).toEqual([]);
  });

  it("When the defaults are rendered for a ticket, then the subject is the reply subject and the text names the ticket", () => {
    const values = { "ticket.number": 1234, "ticket.subject": "Printer is broken", "source.address": "support@msp.test" };
    expect(renderSubjectTemplate(DEFAULT_ACKNOWLEDGEMENT.subject, values, { number: 1234, tag: "Ticket #" })).toBe("Re: [Ticket #1234] Printer is broken");
    const text = renderTemplate(DEFAULT_ACKNOWLEDGEMENT.text, values);
    expect(text).toContain("ticket 1234");
    expect(text).toContain("Printer is broken");
    expect(text).not.toContain("{{");
  });
});

describe("acknowledgementFor (a mailbox's own acknowledgement over the rules')", () => {
  const RULES = acknowledgementSettingsSchema.parse({ ...VALID, html: "<p>Ticket {{ticket.number}}</p>", perSenderPerHour: 5 });

  it("When the mailbox has none, then the rules' is used as it is", () => {
    expect(acknowledgementFor(RULES, null)).toBe(RULES);
  });

  it("When the mailbox sets some fields, then those replace the rules' and the rest, the limit included, stay the rules'", () => {
    expect(acknowledgementFor(RULES, { subject: "Acme: {{ticket.subject}}" })).toEqual({ ...RULES, subject: "Acme: {{ticket.subject}}" });
    expect(acknowledgementFor({ ...RULES, enabled: false }, { enabled: true }).enabled).toBe(true);
    expect(acknowledgementFor(RULES, { enabled: false }).enabled).toBe(false);
  });

  it("When the mailbox sets html to null, or its own text without html, then its acknowledgement is text only", () => {
    const { html: _html, ...textOnly } = RULES;
    expect(acknowledgementFor(RULES, { html: null })).toEqual(textOnly);
    expect(acknowledgementFor(RULES, { text: "Ours." })).toEqual({ ...textOnly, text: "Ours." });
    expect(acknowledgementFor(RULES, { text: "Ours.", html: "<p>Ours.</p>" })).toEqual({ ...RULES, text: "Ours.", html: "<p>Ours.</p>" });
  });

  it("When a mailbox's template is empty or names an unknown placeholder, then it is refused", () => {
    const refused = (value: unknown) => mailboxAcknowledgementSchema.safeParse(value).success === false;
    expect(refused({ text: "  " })).toBe(true);
    expect(refused({ subject: "{{ticket.nmuber}}" })).toBe(true);
    expect(refused({ perSenderPerHour: 9 })).toBe(true);
    expect(refused({ enabled: true, text: "Ticket {{ticket.number}}", html: null })).toBe(false);
  });
});
