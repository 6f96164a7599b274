// Whether a mail that just arrived gets an acknowledgement. Answering a machine is how two
// auto-responders start mailing each other forever, so only a person who opened a new ticket is
// answered: never a machine (classify's signs), a no-reply mailbox, our own addresses, or an
// address mail cannot go to; the per-sender limit stops whatever loop gets past these signs.
import { classify, type ClassifiableEmail } from "../pipeline/classify.ts";
import type { InboundStatus } from "../db/statuses.ts";

export type AcknowledgementInput = {
  email: ClassifiableEmail;
  /** What the mail became. */
  outcome: InboundStatus;
  acknowledgeLeads: boolean;
  /** Every source's address, lower case. */
  ownAddresses: ReadonlySet<string>;
  /** The Message-ID domain classify treats as ours (config.messageIdDomain). */
  ownMessageIdDomain: string;
  /** This deployment's loop header value (loop-token.ts). */
  ownLoopToken: string;
  /** Acknowledgements sent to this sender in the last hour, and how many an hour are allowed. */
  sentToSenderLastHour: number;
  perSenderPerHour: number;
};

export type AcknowledgementDecision = { send: true } | { send: false; reason: string };

/** Cheap and certain refusals first; the limit last, so its reason names only mail it stopped. */
export function shouldAcknowledge(input: AcknowledgementInput): AcknowledgementDecision {
  return refusedOutcome(input) ?? refusedSender(input) ?? refusedMachine(input) ?? refusedOverLimit(input) ?? { send: true };
}

function refusedOutcome({ outcome, acknowledgeLeads }: AcknowledgementInput): AcknowledgementDecision | null {
  if (outcome === "ticket_created") return null;
  if (outcome === "lead_created") return acknowledgeLeads ? null : refuse("lead: acknowledgements for leads are turned off");
  return refuse(`not_new_ticket: the mail became ${outcome}, and only a new ticket is acknowledged`);
}

function refusedSender({ email, ownAddresses }: AcknowledgementInput): AcknowledgementDecision | null {
  const sender = email.from?.address.trim() ?? "";
  if (sender === "") return refuse("no_sender: the mail has no From address");
  if (!isMailboxAddress(sender)) return refuse(`invalid_sender: ${JSON.stringify(sender)} is not an address mail can be sent to`);
  if (ownAddresses.has(sender.toLowerCase())) return refuse(`own_address: ${sender} is one of our own sources`);
  return null;
}

function refusedMachine({ email, ownMessageIdDomain, ownLoopToken }: AcknowledgementInput): AcknowledgementDecision | null {
  const classification = classify(email, { ownMessageIdDomain, ownLoopToken });
  if (classification.kind !== "normal") return refuse(classification.reason);
  const sender = email.from?.address.trim() ?? "";
  if (NO_REPLY_LOCAL_PART.test(sender.slice(0, sender.lastIndexOf("@")))) return refuse(`no_reply_sender: ${sender} is a mailbox nobody reads`);
  return null;
}

function refusedOverLimit({ email, sentToSenderLastHour, perSenderPerHour }: AcknowledgementInput): AcknowledgementDecision | null {
  if (sentToSenderLastHour < perSenderPerHour) return null;
  return refuse(`rate_limited: ${sentToSenderLastHour} acknowledgements already went to ${email.from?.address.trim()} in the last hour (limit ${perSenderPerHour})`);
}

// "noreply", "no-reply", "no_reply", "do-not-reply", "donotreply", ... and the same with a suffix
// ("noreply-billing", "no-reply+abc"); mailer-daemon and postmaster are classify's bounces already,
// listed again so a mail from them that is not a bounce is not answered either.
const NO_REPLY_LOCAL_PART = /^(?:mailer-daemon|postmaster|no[-_.]?reply|do[-_.]?not[-_.]?reply)(?:[-_.+].*)?$/i;

/**
 * A plain `local@domain.tld` a mail server accepts as a recipient: no spaces, brackets or quotes
 * (an address with them is garbage or an attempt at header injection), a dotted domain.
 */
function isMailboxAddress(address: string): boolean {
  if (address.length > 254) return false;
  const at = address.lastIndexOf("@");
  const local = address.slice(0, at);
  const domain = address.slice(at + 1);
  if (at <= 0 || local.length > 64 || /[\s\p{Cc}<>()[\]\\,;:"@]/u.test(local)) return false;
  return /^(?:[\p{L}\p{N}](?:[\p{L}\p{N}-]*[\p{L}\p{N}])?\.)+[\p{L}\p{N}][\p{L}\p{N}-]*[\p{L}\p{N}]$/u.test(domain);
}

function refuse(reason: string): AcknowledgementDecision {
  return { send: false, reason };
}
