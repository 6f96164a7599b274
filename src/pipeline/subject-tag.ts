// The ticket number in a subject ("Re: [Ticket #1234] Your request"), and the subject without the
// reply and forward prefixes mail clients add in every language.

/**
 * The number of the first "[<tag><digits>]" in the subject, or null. Case and whitespace inside
 * the brackets are free ("[ticket#1234]", "[Ticket # 1234 ]"), because mail clients and people
 * retyping a subject change both. Numbers beyond what a ticket number can be are ignored.
 */
export function findTicketNumber(subject: string, tag: string): number | null {
  const pattern = tagPattern(tag);
  if (pattern === null) return null;
  for (const match of subject.matchAll(pattern)) {
    const number = Number(match[1]);
    if (Number.isSafeInteger(number)) return number;
  }
  return null;
}

// Words and single symbols of the tag, each allowed to be surrounded by whitespace: "Ticket #"
// and "Ticket#" both match "[Ticket#1]" and "[Ticket # 1]".
function tagPattern(tag: string): RegExp | null {
  const parts = tag.match(/[\p{L}\p{N}_]+|[^\s\p{L}\p{N}_]/gu) ?? [];
  // A blank tag would make every "[1234]" a ticket reference.
  if (parts.length === 0) return null;
  const body = parts.map((part) => part.replace(/[\^$\\.*+?()[\]{}|/]/g, "\\$&")).join("\\s*");
  return new RegExp(`\\[\\s*${body}\\s*(\\d{1,15})\\s*\\]`, "giu");
}

const PREFIX = /^\s*(?:(?:re|fwd?|aw|wg|sv|vs|tr|antw)\s*(?:\[\d+\]|\(\d+\))?\s*[:：]\s*)+/i;

/**
 * Removes any run of reply and forward prefixes: Re, Fwd, Fw (English), AW, WG (German), SV, VS
 * (Scandinavian), TR (French), Antw (Dutch), with counters ("Re[2]:", "Re(2):") and with or
 * without spaces ("RE:RE: x"). Only leading prefixes go: "Re:" later in a subject is text.
 */
export function stripReplyPrefixes(subject: string): string {
  return subject.replace(PREFIX, "");
}

/**
 * Every number in square brackets, whatever the tag: the candidates to look up in the same
 * round trip as the rules that say which tag counts; findTicketNumber then picks the one.
 */
export function bracketedNumbers(subject: string): number[] {
  const found: number[] = [];
  for (const match of subject.matchAll(/\[[^[\]]{0,60}?(\d{1,15})\s*\]/g)) {
    const n = Number(match[1]);
    if (Number.isSafeInteger(n) && !found.includes(n)) found.push(n);
  }
  return found.slice(0, 20);
}
