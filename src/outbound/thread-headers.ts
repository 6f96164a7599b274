// The headers that make a mail mailgate sends a reply in the customer's thread (RFC 5322 §3.6.4),
// and the Message-ID it carries. The id is at the source's own domain because the mail is that
// mailbox's mail; the customer's answer names it in In-Reply-To, which threads the answer back to
// the ticket. Its "mailgate." prefix tells it apart from ids the mailbox's people write.
import { randomBytes } from "node:crypto";
import { GENERATED_ID_DOMAIN, messageIdAsWritten, messageIdDomain } from "../pipeline/message-id.ts";

/**
 * References grows by one id per round; past this, the first id (the thread's root) and the most
 * recent ones are kept, as mail clients trim it, so the header stays small and still threads.
 */
export const MAX_REFERENCES = 20;

export const OUTBOUND_ID_PREFIX = "mailgate.";

/** Each id in angle brackets, as written in the header; null and [] when there is no parent. */
export type ThreadHeaders = { inReplyTo: string | null; references: string[] };

/**
 * From the Message-IDs of the ticket's messages, oldest first, each as its sender wrote it (bare;
 * bracketed ones are accepted too). Their case is kept, as mail clients compare ids exactly; they
 * are told apart by their normal form. An id mailgate generated for a mail that had none was
 * never in any mail, so it can neither be answered nor referenced: a ticket whose last mail had no
 * id gets no In-Reply-To (RFC 5322 §3.6.4), and References without that id.
 */
export function threadHeaders(messageIds: readonly string[]): ThreadHeaders {
  const ids = messageIds.map((id) => messageIdAsWritten(id));
  const last = ids.at(-1) ?? null;
  const real = lastOccurrences(ids.filter((id): id is string => id !== null && messageIdDomain(id.toLowerCase()) !== GENERATED_ID_DOMAIN));
  const kept = real.length <= MAX_REFERENCES ? real : [real[0]!, ...real.slice(real.length - (MAX_REFERENCES - 1))];
  return {
    inReplyTo: last !== null && real.includes(last) ? bracketed(last) : null,
    references: kept.map(bracketed),
  };
}

/** Each id once (by its normal form), where it last appears: References must end with the parent's id. */
function lastOccurrences(ids: string[]): string[] {
  const seen = new Set<string>();
  return ids
    .toReversed()
    .filter((id) => !seen.has(id.toLowerCase()) && seen.add(id.toLowerCase()))
    .toReversed();
}

/** A new Message-ID at `domain`, in angle brackets: `<mailgate.5f0c…@support.acme.com>`. */
export function outboundMessageId(domain: string, random: (size: number) => Buffer = randomBytes): string {
  const host = domain.trim().toLowerCase();
  if (!/^[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?$/.test(host) || host.includes("..")) {
    throw new Error(`cannot make a Message-ID at "${domain}": expected a domain name such as support.acme.com`);
  }
  return `<${OUTBOUND_ID_PREFIX}${random(16).toString("hex")}@${host}>`;
}

/** The domain of a mailbox address ("Support@Acme.com" → "acme.com"), or null when it has none. */
export function addressDomain(address: string): string | null {
  const at = address.lastIndexOf("@");
  const domain = at === -1 ? "" : address.slice(at + 1).trim().toLowerCase();
  return domain === "" ? null : domain;
}

function bracketed(id: string): string {
  return `<${id}>`;
}
