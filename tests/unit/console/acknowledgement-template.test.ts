// The console's preview renders acknowledgements with its own copy of the server's rules (the
// browser cannot load the server's TypeScript): these tests hold the copy to the server's answers.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import * as server from "../../../src/outbound/acknowledgement-template.ts";
import type { TemplateValues } from "../../../src/outbound/acknowledgement-template.ts";

type Templates = Pick<typeof server, "PLACEHOLDERS" | "renderTemplate" | "renderHtmlTemplate" | "renderSubjectTemplate">;

// A plain browser module, typed here by what the server's module exports.
const consoleModule = new URL("../../../console/screens/acknowledgement-template.js", import.meta.url).href;
const browser = (await import(consoleModule)) as Templates;

const SAMPLE: TemplateValues = {
  "ticket.number": 1042,
  "ticket.subject": "Printer on 2nd floor is offline",
  "contact.name": "Jane Doe",
  "company.name": "Contoso",
  "source.address": "support@example.com",
};

/** Pieces templates are made of: placeholders with and without spaces, names that are not, braces, markup, prefixes and tags. */
const fragment = fc.oneof(
  fc.constantFrom(...server.PLACEHOLDERS).chain((name) => fc.constantFrom(`{{${name}}}`, `{{ ${name} }}`, `{{\t${name}  }}`, `{${name}}`)),
  fc.constantFrom("{{contact.email}}", "{{ Ticket.Number }}", "{{}}", "{{ }}", "{{{ticket.number}}}", "{{ticket.number}", "}}{{"),
  fc
    .constantFrom("Re", "Fwd", "Fw", "AW", "WG", "SV", "VS", "TR", "Antw", "Ré")
    .chain((word) => fc.constantFrom(`${word}: `, `${word.toUpperCase()}:`, `${word}[2]: `, `${word} (3)： `)),
  fc.constantFrom("[Ticket #1042] ", "[ticket#1042]", "[Ticket #99] ", "[TKT-1042]", "[URGENT] ", "[ Ticket # 1042 ]", "[SR 1042]"),
  fc.constantFrom("<p>", "</p>", '<a href="mailto:x">', "&amp;", "'", '"', "\r\n", "\t", "\u0000", "$&", "$1"),
  fc.string({ maxLength: 12 }),
);
const template = fc.array(fragment, { maxLength: 12 }).map((parts) => parts.join(""));

const value = fc.oneof(fc.constant(null), fc.string({ maxLength: 20 }), fc.integer(), fc.constantFrom("<b>O'Brien & \"Co\"</b>", "{{source.address}}", "$& $1"));
const values = fc.record(Object.fromEntries(server.PLACEHOLDERS.map((name) => [name, value])) as Record<(typeof server.PLACEHOLDERS)[number], fc.Arbitrary<string | number | null>>, {
  requiredKeys: [],
});

/** Tags the settings accept: no brackets or control characters, something visible. */
const tag = fc.oneof(
  fc.constantFrom("Ticket #", "TKT-", "Case ", "Case.No*", "SR", "Ticket#"),
  fc.string({ minLength: 1, maxLength: 12 }).filter((t) => /^[^[\]\p{Cc}]*$/u.test(t) && /\S/u.test(t)),
);

describe("the console's acknowledgement preview", () => {
  it("When it lists the placeholders, then they are the server's", () => {
    expect(browser.PLACEHOLDERS).toEqual([...server.PLACEHOLDERS]);
  });

  it("When the sample ticket fills the default templates and hand-written ones, then the text, the HTML and the subject are the server's", () => {
    const texts = [
      "Thank you for your message. We have opened ticket {{ticket.number}} for it:\n\n  {{ticket.subject}}\n\nThis is an automatic reply to {{source.address}}.",
      "Hello {{ contact.name }} of {{company.name}}, {{contact.email}} stays as written.",
      "<p>Dear {{contact.name}},</p><p>ticket {{ticket.number}}</p>",
    ];
    for (const t of texts) {
      expect(browser.renderTemplate(t, SAMPLE), t).toBe(server.renderTemplate(t, SAMPLE));
      expect(browser.renderHtmlTemplate(t, { ...SAMPLE, "contact.name": "<Jane & O'Doe>" }), t).toBe(server.renderHtmlTemplate(t, { ...SAMPLE, "contact.name": "<Jane & O'Doe>" }));
    }
    for (const subject of ["{{ticket.subject}}", "Re: [Ticket #{{ticket.number}}] {{ticket.subject}}", "We received: {{ ticket.subject }}", "", "{{unknown}}"]) {
      const ticket = { number: 1042, tag: "Ticket #" };
      expect(browser.renderSubjectTemplate(subject, SAMPLE, ticket), subject).toBe(server.renderSubjectTemplate(subject, SAMPLE, ticket));
    }
  });

  it("When any template is filled with any values, then the console renders text and HTML as the server does", () => {
    fc.assert(
      fc.property(template, values, (t, v) => {
        expect(browser.renderTemplate(t, v)).toBe(server.renderTemplate(t, v));
        expect(browser.renderHtmlTemplate(t, v)).toBe(server.renderHtmlTemplate(t, v));
      }),
      { numRuns: 500 },
    );
  });

  it("When any subject template is rendered for any ticket number and tag, then the console's subject is the server's", () => {
    fc.assert(
      fc.property(template, values, fc.oneof(fc.constant(1042), fc.integer({ min: 1, max: 10 ** 9 })), tag, (t, v, number, ticketTag) => {
        expect(browser.renderSubjectTemplate(t, v, { number, tag: ticketTag })).toBe(server.renderSubjectTemplate(t, v, { number, tag: ticketTag }));
      }),
      { numRuns: 500 },
    );
  });
});
