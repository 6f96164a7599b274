// The durable intake every source feeds: raw bytes first, processed later. Idempotent on
// (source, provider id), so a provider re-delivery or a repeated sync stores nothing twice.
// A message is stamped with the caller's clock, the one the workers' claim compares it with.
import { createHash } from "node:crypto";
import { and, eq } from "drizzle-orm";
import type { Executor } from "./client.ts";
import { headerMessageId } from "../pipeline/message-id.ts";
import { inboundMessages } from "./schema.ts";
import type { InboundEnvelope } from "./statuses.ts";

export type StoreInbound = { sourceId: string; providerMessageId: string; raw: Buffer; receivedAt: Date };

const inboundRow = (sourceId: string, item: { providerMessageId: string; raw: Buffer; envelope?: InboundEnvelope }, receivedAt: Date) => ({
  sourceId,
  receivedAt,
  nextAttemptAt: receivedAt,
  providerMessageId: item.providerMessageId,
  raw: item.raw,
  rawSize: item.raw.length,
  rawSha256: createHash("sha256").update(item.raw).digest("hex"),
  // Known before parsing, so a reply can wait for the mail it answers (see routing-facts).
  messageId: headerMessageId(item.raw),
  envelope: item.envelope ?? null,
});

export async function storeInbound(executor: Executor, input: StoreInbound): Promise<{ id: string; created: boolean }> {
  const inserted = await executor
    .insert(inboundMessages)
    .values(inboundRow(input.sourceId, input, input.receivedAt))
    .onConflictDoNothing({ target: [inboundMessages.sourceId, inboundMessages.providerMessageId] })
    .returning({ id: inboundMessages.id });
  if (inserted[0]) return { id: inserted[0].id, created: true };
  const [existing] = await executor
    .select({ id: inboundMessages.id })
    .from(inboundMessages)
    .where(and(eq(inboundMessages.sourceId, input.sourceId), eq(inboundMessages.providerMessageId, input.providerMessageId)));
  if (!existing) throw new Error("inbound message vanished between insert and lookup");
  return { id: existing.id, created: false };
}

/**
 * Many raw messages of one source in ONE statement (a fetched batch of a mailbox sync): a burst
 * costs a round trip per batch, not per message. Answers how many were new.
 */
export async function storeInboundMany(
  executor: Executor,
  sourceId: string,
  items: { providerMessageId: string; raw: Buffer }[],
  receivedAt: Date,
): Promise<{ created: number }> {
  if (items.length === 0) return { created: 0 };
  const inserted = await executor
    .insert(inboundMessages)
    .values(items.map((item) => inboundRow(sourceId, item, receivedAt)))
    .onConflictDoNothing({ target: [inboundMessages.sourceId, inboundMessages.providerMessageId] })
    .returning({ id: inboundMessages.id });
  return { created: inserted.length };
}

/**
 * One mail handed over for several sources at once (an SMTP transaction whose recipients several
 * sources own): a copy per source, in ONE statement, so all are stored or none. A copy a source
 * already has (the sender retried after losing our answer) is not stored again.
 */
export async function storeInboundCopies(
  executor: Executor,
  input: { sourceIds: string[]; providerMessageId: string; raw: Buffer; envelope: InboundEnvelope; receivedAt: Date },
): Promise<{ created: number }> {
  if (input.sourceIds.length === 0) return { created: 0 };
  const inserted = await executor
    .insert(inboundMessages)
    .values(input.sourceIds.map((sourceId) => inboundRow(sourceId, input, input.receivedAt)))
    .onConflictDoNothing({ target: [inboundMessages.sourceId, inboundMessages.providerMessageId] })
    .returning({ id: inboundMessages.id });
  return { created: inserted.length };
}

/** The SHA-256 of the raw bytes stored under this key, or null when nothing is. */
export async function storedRawSha256(executor: Executor, sourceId: string, providerMessageId: string): Promise<string | null> {
  const [row] = await executor
    .select({ rawSha256: inboundMessages.rawSha256 })
    .from(inboundMessages)
    .where(and(eq(inboundMessages.sourceId, sourceId), eq(inboundMessages.providerMessageId, providerMessageId)));
  return row?.rawSha256 ?? null;
}
