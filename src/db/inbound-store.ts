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

/** What every copy of the same raw bytes shares, computed once per mail. */
const sharedColumns = (raw: Buffer) => ({
  rawSha256: createHash("sha256").update(raw).digest("hex"),
  // Known before parsing, so a reply can wait for the mail it answers (see routing-facts).
  messageId: headerMessageId(raw),
});

const inboundRow = (
  sourceId: string,
  item: { providerMessageId: string; raw: Buffer; envelope?: InboundEnvelope },
  receivedAt: Date,
  shared = sharedColumns(item.raw),
) => ({
  sourceId,
  receivedAt,
  nextAttemptAt: receivedAt,
  providerMessageId: item.providerMessageId,
  raw: item.raw,
  rawSize: item.raw.length,
  ...shared,
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
 * The bounds of one group-committed store of raw mail (SMTP, Gmail, Graph): one INSERT's
 * statement text stays one of a few per connection, its bytes moderate; a mail over the byte
 * bound goes alone.
 */
export const INTAKE_BATCH = { maxItems: 64, maxWeight: 16 * 1024 * 1024, weight: (mail: { raw: Buffer }) => mail.raw.length };

/** One mail handed over for several sources at once (an SMTP transaction whose recipients several sources own); only SMTP has an envelope. */
export type HandedOverMail = { sourceIds: string[]; providerMessageId: string; raw: Buffer; envelope?: InboundEnvelope; receivedAt: Date };

/**
 * Handed-over mails, a copy per source each, in ONE statement, so all are stored or none: the
 * SMTP listener stores the mails of its concurrent transactions together (intake-batcher.ts), the
 * Gmail syncs the messages of concurrent mailboxes (gmail/store-messages.ts).
 * A copy a source already has (the sender retried after losing our answer, or the same mail twice
 * in this call) is not stored again. Answers, for each mail, how many of its copies were new.
 */
export async function storeInboundCopies(executor: Executor, mails: HandedOverMail[]): Promise<{ created: number }[]> {
  const rows = mails.flatMap((mail) => {
    const shared = sharedColumns(mail.raw);
    return mail.sourceIds.map((sourceId) => inboundRow(sourceId, mail, mail.receivedAt, shared));
  });
  if (rows.length === 0) return mails.map(() => ({ created: 0 }));
  const inserted = await executor
    .insert(inboundMessages)
    .values(rows)
    .onConflictDoNothing({ target: [inboundMessages.sourceId, inboundMessages.providerMessageId] })
    .returning({ sourceId: inboundMessages.sourceId, providerMessageId: inboundMessages.providerMessageId });
  const created = new Set(inserted.map((r) => copyKey(r.sourceId, r.providerMessageId)));
  // A copy inserted once is credited to the first mail that asked for it; a later one is a duplicate.
  return mails.map((mail) => ({ created: mail.sourceIds.filter((sourceId) => created.delete(copyKey(sourceId, mail.providerMessageId))).length }));
}

const copyKey = (sourceId: string | null, providerMessageId: string) => `${sourceId}\n${providerMessageId}`;

/** The SHA-256 of the raw bytes stored under this key, or null when nothing is. */
export async function storedRawSha256(executor: Executor, sourceId: string, providerMessageId: string): Promise<string | null> {
  const [row] = await executor
    .select({ rawSha256: inboundMessages.rawSha256 })
    .from(inboundMessages)
    .where(and(eq(inboundMessages.sourceId, sourceId), eq(inboundMessages.providerMessageId, providerMessageId)));
  return row?.rawSha256 ?? null;
}
