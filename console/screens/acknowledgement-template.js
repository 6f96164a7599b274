// The server's acknowledgement rendering, for the preview on Ticket rules: the browser cannot load
// the server's TypeScript, so this copies src/outbound/acknowledgement-template.ts (placeholders)
// and src/outbound/reply-subject.ts with the parts of src/pipeline/subject-tag.ts it uses (the
// subject). tests/unit/console/acknowledgement-template.test.ts holds the copy to the originals'
// answers; change both together.

export const PLACEHOLDERS = ["ticket.number", "ticket.subject", "contact.name", "company.name", "source.address"];

const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;

export const renderTemplate = (template, values) => render(template, values, (value) => value);

export const renderHtmlTemplate = (template, values) => render(template, values, escapeHtml);

/** "Re: [<tag><number>] <rendered subject>", as the acknowledgement goes out. */
export const renderSubjectTemplate = (template, values, ticket) => replySubject(renderTemplate(template, values), ticket.number, ticket.tag);

function render(template, values, escape) {
  return template.replace(PLACEHOLDER, (written, name) => {
    if (!PLACEHOLDERS.includes(name)) return written;
    const value = values[name];
    return value === undefined || value === null ? "" : escape(String(value));
  });
}

const HTML_ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

const escapeHtml = (value) => value.replace(/[&<>"']/g, (ch) => HTML_ESCAPES[ch]);

function replySubject(originalSubject, ticketNumber, tag) {
  return `Re: [${tag}${ticketNumber}] ${bareSubject(originalSubject, ticketNumber, tag) || "(no subject)"}`;
}

function bareSubject(subject, ticketNumber, tag) {
  let current = subject.replace(/[\s\p{Cc}]+/gu, " ").trim();
  for (;;) {
    const next = withoutOwnTags(stripReplyPrefixes(current), ticketNumber, tag).trim();
    if (next === current) return current;
    current = next;
  }
}

function withoutOwnTags(subject, ticketNumber, tag) {
  return subject.replace(/\s*\[[^[\]]*\]\s*/g, (bracketed) => (findTicketNumber(bracketed, tag) === ticketNumber ? " " : bracketed));
}

function findTicketNumber(subject, tag) {
  const pattern = tagPattern(tag);
  if (pattern === null) return null;
  for (const match of subject.matchAll(pattern)) {
    const number = Number(match[1]);
    if (Number.isSafeInteger(number)) return number;
  }
  return null;
}

function tagPattern(tag) {
  const parts = tag.match(/[\p{L}\p{N}_]+|[^\s\p{L}\p{N}_]/gu) ?? [];
  if (parts.length === 0) return null;
  const body = parts.map((part) => part.replace(/[\^$\\.*+?()[\]{}|/]/g, "\\$&")).join("\\s*");
  return new RegExp(`\\[\\s*${body}\\s*(\\d{1,15})\\s*\\]`, "giu");
}

const PREFIX = /^\s*(?:(?:re|fwd?|aw|wg|sv|vs|tr|antw)\s*(?:\[\d+\]|\(\d+\))?\s*[:：]\s*)+/i;

const stripReplyPrefixes = (subject) => subject.replace(PREFIX, "");
