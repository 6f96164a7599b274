import { describe, expect, it } from "vitest";
import { renderHtmlTemplate, renderSubjectTemplate, renderTemplate, unknownPlaceholders, type TemplateValues } from "../../../src/outbound/acknowledgement-template.ts";
import { findTicketNumber } from "../../../src/pipeline/subject-tag.ts";

const VALUES: TemplateValues = {
  "ticket.number": 1234,
  "ticket.subject": "Printer is broken",
  "contact.name": "John Smith",
  "company.name": "Acme",
  "source.address": "support@msp.test",
};

describe("renderTemplate", () => {
  it("When a template names every placeholder, then each is replaced by its value", () => {
    const template = "{{contact.name}} of {{company.name}}: ticket {{ticket.number}} ({{ticket.subject}}), from {{source.address}}";
    expect(renderTemplate(template, VALUES)).toBe("John Smith of Acme: ticket 1234 (Printer is broken), from support@msp.test");
  });

  it("When there is whitespace inside the braces, then the placeholder is still replaced", () => {
    expect(renderTemplate("#{{ ticket.number }} #{{ticket.number  }} #{{\tticket.number}}", VALUES)).toBe("#1234 #1234 #1234");
  });

  it("When a placeholder appears twice, then both are replaced", () => {
    expect(renderTemplate("{{ticket.number}}/{{ticket.number}}", VALUES)).toBe("1234/1234");
  });

  it("When a placeholder is unknown, then it is left as written", () => {
    expect(renderTemplate("Hi {{ contact.email }} and {{Ticket.Number}}, {{}}", VALUES)).toBe("Hi {{ contact.email }} and {{Ticket.Number}}, {{}}");
  });

  it("When a value is missing or null, then it renders as nothing", () => {
    expect(renderTemplate("Hello {{contact.name}}! ({{company.name}})", { "contact.name": null })).toBe("Hello ! ()");
  });

  it("When a value looks like a placeholder or holds markup, then a text template keeps it as it is", () => {
    const values = { ...VALUES, "contact.name": "{{source.address}} <b>&'\"" };
    expect(renderTemplate("Hi {{contact.name}}", values)).toBe("Hi {{source.address}} <b>&'\"");
  });

  it("When the template has braces that are not placeholders, then they stay", () => {
    expect(renderTemplate("{ticket.number} {{ticket.number} {{{ticket.number}}}", VALUES)).toBe("{ticket.number} {{ticket.number} {1234}");
  });

  it("When a value contains $ patterns, then they are not read as replacement patterns", () => {
    expect(renderTemplate("{{contact.name}}", { "contact.name": "$& $1 $$" })).toBe("$& $1 $$");
  });
});

describe("renderHtmlTemplate", () => {
  it("When values hold markup, then an html template gets them escaped", () => {
    const values = { ...VALUES, "contact.name": `<script>alert("x")</script> & O'Brien` };
    expect(renderHtmlTemplate("<p>Hello {{contact.name}}</p>", values)).toBe("<p>Hello &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; O&#39;Brien</p>");
  });

  it("When the template's own markup is rendered, then it is kept, and unknown placeholders are left as written", () => {
    expect(renderHtmlTemplate('<a href="mailto:{{source.address}}">{{x}}</a>', VALUES)).toBe('<a href="mailto:support@msp.test">{{x}}</a>');
  });

  it("When a value is missing, then it renders as nothing", () => {
    expect(renderHtmlTemplate("<b>{{company.name}}</b>", {})).toBe("<b></b>");
  });
});

describe("renderSubjectTemplate", () => {
  it("When the subject template is the ticket's subject, then the acknowledgement's subject is the reply subject with the tag", () => {
    expect(renderSubjectTemplate("{{ticket.subject}}", VALUES, { number: 1234, tag: "Ticket #" })).toBe("Re: [Ticket #1234] Printer is broken");
  });

  it("When the operator's template carries the tag already, then the tag is not doubled", () => {
    expect(renderSubjectTemplate("[Ticket #{{ticket.number}}] {{ticket.subject}}", VALUES, { number: 1234, tag: "Ticket #" })).toBe("Re: [Ticket #1234] Printer is broken");
  });

  it("When the operator's template leaves the tag out, then it is added so the answer threads back", () => {
    const subject = renderSubjectTemplate("We received: {{ticket.subject}}", VALUES, { number: 1234, tag: "TKT-" });
    expect(subject).toBe("Re: [TKT-1234] We received: Printer is broken");
    expect(findTicketNumber(subject, "TKT-")).toBe(1234);
  });

  it("When the ticket's subject has line breaks, then the rendered subject is one line", () => {
    expect(renderSubjectTemplate("{{ticket.subject}}", { "ticket.subject": "a\r\nBcc: x@evil.com" }, { number: 1, tag: "Ticket #" })).toBe("Re: [Ticket #1] a Bcc: x@evil.com");
  });
});

describe("unknownPlaceholders", () => {
  it("When every placeholder is known, then none is reported", () => {
    expect(unknownPlaceholders("{{ticket.number}} {{ ticket.subject }} {{contact.name}} {{company.name}} {{source.address}} { x } {{y}")).toEqual([]);
  });

  it("When names are unknown, then each is reported once, trimmed, in order", () => {
    expect(unknownPlaceholders("{{ contact.email }} {{Ticket.Number}} {{contact.email}} {{}}")).toEqual(["contact.email", "Ticket.Number", ""]);
  });
});
