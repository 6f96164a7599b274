// message_ids: every normalised Message-ID seen, once. Claiming one is the dedupe step; the
// routing facts look them up for the header half of thread matching.
import { and, eq, isNull } from "drizzle-orm";
import type { Executor } from "./client.js";
import { messageIds } from "./schema.js";

export type Claim = { kind: "claimed" } | { kind: "taken"; inboundMessageId: string | null; ticketId: string | null };

/**
 * Claims a Message-ID for an inbound message. The primary key decides under concurrency: a second
 * worker with the same id waits for the first transaction and then sees the conflict.
 */
export async function claimMessageId(executor: Executor, messageId: string, inboundMessageId: string): Promise<Claim> {
  const inserted = await executor
    .insert(messageIds)
    .values({ messageId, inboundMessageId })
    .onConflictDoNothing()
    .returning({ messageId: messageIds.messageId });
  if (inserted.length > 0) return { kind: "claimed" };
  const [owner] = await executor.select().from(messageIds).where(eq(messageIds.messageId, messageId));
  if (!owner || owner.inboundMessageId === inboundMessageId) return { kind: "claimed" }; // a reprocess of the owner
  return { kind: "taken", inboundMessageId: owner.inboundMessageId, ticketId: owner.ticketId };
}

export async function linkMessageIdToTicket(executor: Executor, messageId: string, ticketId: string): Promise<void> {
  await executor.update(messageIds).set({ ticketId }).where(eq(messageIds.messageId, messageId));
}

/** Undoes a claim that led nowhere yet (the message was deferred). */
export async function releaseMessageId(executor: Executor, messageId: string, inboundMessageId: string): Promise<void> {
  await executor
    .delete(messageIds)
    .where(and(eq(messageIds.messageId, messageId), eq(messageIds.inboundMessageId, inboundMessageId), isNull(messageIds.ticketId)));
}
