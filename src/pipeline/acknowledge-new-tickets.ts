// Which of a batch's new tickets (and, when asked, leads) get an acknowledgement: queued in the same transaction
// (so a committed ticket always has its acknowledgement queued, and only once: one per mail),
// built and sent by the outbox after the commit. The policy (acknowledgement-policy.ts) refuses
// machines, no-reply mailboxes and our own addresses; the per-sender limit counts what was queued
// for the address in the last hour and earlier in this batch.
import type { Tx } from "../db/client.ts";
import { acknowledgementsSince, type NewOutbound } from "../db/outbound-messages.ts";
import type { RoutingFacts } from "../db/routing-facts.ts";
import { shouldAcknowledge } from "../outbound/acknowledgement-policy.ts";
import type { OwnMail } from "./classify.ts";
import type { MessageInput } from "./decide-message.ts";

const HOUR_MS = 3_600_000;

/** A mail that opened a ticket, or became a lead (no ticket). */
export type NewTicketMail = { mail: MessageInput; ticketId: string | null; facts: RoutingFacts };

export async function acknowledgementsFor(
  tx: Tx,
  created: NewTicketMail[],
  opts: OwnMail & { now: Date },
): Promise<NewOutbound[]> {
  const candidates = created.filter(({ mail, facts }) => (mail.source?.acknowledges ?? facts.rules.acknowledgement.enabled) && mail.source?.canSend === true);
  if (candidates.length === 0) return [];
  const recipients = [...new Set(candidates.map(({ mail }) => senderOf(mail)))].filter((r) => r !== "");
  const sentBefore = await acknowledgementsSince(tx, recipients, new Date(opts.now.getTime() - HOUR_MS));
  const queued: NewOutbound[] = [];
  for (const { mail, ticketId, facts } of candidates) {
    const recipient = senderOf(mail);
    const settings = facts.rules.acknowledgement;
    const decision = shouldAcknowledge({
      email: mail.email,
      outcome: ticketId ? "ticket_created" : "lead_created",
      acknowledgeLeads: settings.acknowledgeLeads,
      ownAddresses: facts.ownAddresses,
      ownMessageIdDomain: opts.ownMessageIdDomain,
      ownLoopToken: opts.ownLoopToken,
      sentToSenderLastHour: sentBefore.get(recipient) ?? 0,
      perSenderPerHour: settings.perSenderPerHour,
    });
    if (!decision.send) continue;
    sentBefore.set(recipient, (sentBefore.get(recipient) ?? 0) + 1);
    queued.push({
      ticketId,
      sourceId: mail.source!.id,
      kind: "acknowledgement",
      inReplyToInboundId: mail.inboundMessageId,
      recipient,
      to: [recipient],
      nextAttemptAt: opts.now,
      createdAt: opts.now,
      updatedAt: opts.now,
    });
  }
  return queued;
}

const senderOf = (mail: MessageInput) => mail.email.from?.address.trim().toLowerCase() ?? "";
