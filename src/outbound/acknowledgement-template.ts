// Fills an operator's acknowledgement template ("We opened ticket {{ticket.number}}") with one
// ticket's values. One pass, so a value that looks like a placeholder stays text; unknown names
// stay as written, for the operator to see, and unknownPlaceholders lets the settings refuse them.
// HTML templates get escaped values: a contact's name is whatever the sender wrote in From.
import { replySubject } from "./reply-subject.ts";

export const PLACEHOLDERS = ["ticket.number", "ticket.subject", "contact.name", "company.name", "source.address"] as const;
export type Placeholder = (typeof PLACEHOLDERS)[number];

/** A missing or null value renders as nothing. */
export type TemplateValues = Partial<Record<Placeholder, string | number | null>>;

/** "{{ticket.number}}", "{{ ticket.number }}": the name is what is inside, trimmed. */
const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;

export function renderTemplate(template: string, values: TemplateValues): string {
  return render(template, values, (value) => value);
}

export function renderHtmlTemplate(template: string, values: TemplateValues): string {
  return render(template, values, escapeHtml);
}

/**
 * The subject an acknowledgement goes out with: the rendered template made a reply subject, so it
 * carries the ticket's tag once, whatever the operator wrote, and the customer's answer threads back.
 */
export function renderSubjectTemplate(template: string, values: TemplateValues, ticket: { number: number; tag: string }): string {
  return replySubject(renderTemplate(template, values), ticket.number, ticket.tag);
}

/** The names inside braces that are not placeholders, each once, in order of appearance. */
export function unknownPlaceholders(template: string): string[] {
  const unknown = [...template.matchAll(PLACEHOLDER)].map((m) => m[1] ?? "").filter((name) => !isPlaceholder(name));
  return [...new Set(unknown)];
}

function render(template: string, values: TemplateValues, escape: (value: string) => string): string {
  return template.replace(PLACEHOLDER, (written, name: string) => {
    if (!isPlaceholder(name)) return written;
    const value = values[name];
    return value === undefined || value === null ? "" : escape(String(value));
  });
}

function isPlaceholder(name: string): name is Placeholder {
  return (PLACEHOLDERS as readonly string[]).includes(name);
}

const HTML_ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (ch) => HTML_ESCAPES[ch]!);
}
