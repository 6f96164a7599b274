// message_ids: every normalised Message-ID seen, once. Claiming one is the dedupe step; the
// routing facts look them up for the header half of thread matching (the link to the ticket is
// written with the batch, pending-writes.ts).
import { and, eq, isNull } from "drizzle-orm";
import type { Executor } from "./client.ts";
import { messageIds } from "./schema.ts";

export type MessageIdClaim = { kind: "claimed" } | { kind: "taken"; inboundMessageId: string | null; ticketId: string | null };

type Owner = { inboundMessageId: string | null; ticketId: string | null };

/** What the routing-facts statement's insert found: claimed by it, or who held the id then. */
export type MessageIdInsert = { claimed: true } | { claimed: false; owner: Owner | null };

/**
 * The dedupe decision from the claim the routing-facts statement made (an insert on the primary
 * key: a second worker with the same id waits for the first transaction, then conflicts). When
 * the holder committed after that statement began, it was not visible there: look again.
 */
export async function decideMessageIdClaim(
  executor: Executor,
  messageId: string,
  inboundMessageId: string,
  claim: MessageIdInsert,
): Promise<MessageIdClaim> {
  if (claim.claimed) return { kind: "claimed" };
  const owner = claim.owner ?? (await executor.select().from(messageIds).where(eq(messageIds.messageId, messageId)))[0];
  if (!owner || owner.inboundMessageId === inboundMessageId) return { kind: "claimed" }; // a reprocess of the owner
  return { kind: "taken", inboundMessageId: owner.inboundMessageId, ticketId: owner.ticketId };
}

/** Undoes a claim that led nowhere yet (the message was held). */
export async function releaseMessageId(executor: Executor, messageId: string, inboundMessageId: string): Promise<void> {
  await executor
    .delete(messageIds)
    .where(and(eq(messageIds.messageId, messageId), eq(messageIds.inboundMessageId, inboundMessageId), isNull(messageIds.ticketId)));
}
