// The subject of every mail mailgate sends on a ticket: "Re: [Ticket #1234] Printer is broken".
// The tag is what brings the customer's answer back to the ticket when their client drops the
// thread headers, so it is there exactly once, in front, where findTicketNumber reads it back;
// the prefixes and tags earlier rounds of the conversation left behind are removed, not stacked.
import { findTicketNumber, stripReplyPrefixes } from "../pipeline/subject-tag.ts";

export const NO_SUBJECT = "(no subject)";

export function replySubject(originalSubject: string, ticketNumber: number, tag: string): string {
  return `Re: [${tag}${ticketNumber}] ${bareSubject(originalSubject, ticketNumber, tag) || NO_SUBJECT}`;
}

/**
 * The subject without reply prefixes and without this ticket's tags, on one line. Repeated
 * because each removal can uncover the other: "Re: [Ticket #1] Re: x" → "Re: x" → "x".
 * A tag of another ticket (a merged one, a colleague's system) stays: it is part of the text.
 */
function bareSubject(subject: string, ticketNumber: number, tag: string): string {
  // A header is one line: a folded or decoded subject may carry line breaks and control characters.
  let current = subject.replace(/[\s\p{Cc}]+/gu, " ").trim();
  for (;;) {
    const next = withoutOwnTags(stripReplyPrefixes(current), ticketNumber, tag).trim();
    if (next === current) return current;
    current = next;
  }
}

function withoutOwnTags(subject: string, ticketNumber: number, tag: string): string {
  return subject.replace(/\s*\[[^[\]]*\]\s*/g, (bracketed) => (findTicketNumber(bracketed, tag) === ticketNumber ? " " : bracketed));
}
