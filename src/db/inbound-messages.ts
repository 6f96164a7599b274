// The read side of inbound messages: lists and details without the raw bytes, the raw bytes on
// their own, and per-source counts by status.
import { and, eq, inArray, isNotNull, sql, type SQL } from "drizzle-orm";
import type { Executor } from "./client.ts";
import { inboundMessages } from "./schema.ts";
import type { Page } from "../http/pagination.ts";
import { pageOrder, pageWhere } from "../http/pagination.ts";

import { INBOUND_STATUSES, type InboundEnvelope, type InboundStatus } from "./statuses.ts";

export { INBOUND_STATUSES, type InboundStatus };
export type MessageCounts = Record<InboundStatus, number>;

// Every column but `raw`: a list of 500 messages must not drag 500 emails out of the database.
const summary = {
  id: inboundMessages.id,
  sourceId: inboundMessages.sourceId,
  providerMessageId: inboundMessages.providerMessageId,
  status: inboundMessages.status,
  reason: inboundMessages.reason,
  error: inboundMessages.error,
  attempts: inboundMessages.attempts,
  messageId: inboundMessages.messageId,
  fromAddress: inboundMessages.fromAddress,
  subject: inboundMessages.subject,
  ticketId: inboundMessages.ticketId,
  duplicateOf: inboundMessages.duplicateOf,
  envelope: inboundMessages.envelope,
  rawSize: inboundMessages.rawSize,
  rawSha256: inboundMessages.rawSha256,
  hasRaw: isNotNull(inboundMessages.raw).mapWith(Boolean),
  rawPurgedAt: inboundMessages.rawPurgedAt,
  nextAttemptAt: inboundMessages.nextAttemptAt,
  receivedAt: inboundMessages.receivedAt,
  processedAt: inboundMessages.processedAt,
  createdAt: inboundMessages.createdAt,
};

export type InboundSummary = {
  id: string;
  sourceId: string | null;
  providerMessageId: string;
  status: string;
  reason: string | null;
  error: string | null;
  attempts: number;
  messageId: string | null;
  fromAddress: string | null;
  subject: string | null;
  ticketId: string | null;
  duplicateOf: string | null;
  /** SMTP listener mail: MAIL FROM, RCPT TO, client address, HELO; null for other channels. */
  envelope: InboundEnvelope | null;
  rawSize: number;
  rawSha256: string;
  hasRaw: boolean;
  rawPurgedAt: Date | null;
  nextAttemptAt: Date;
  receivedAt: Date;
  processedAt: Date | null;
  createdAt: Date;
};

export type InboundFilter = { status?: InboundStatus; sourceId?: string };

/** Newest first; one row more than the page holds, so the caller knows whether another page follows. */
export async function listInboundMessages(executor: Executor, filter: InboundFilter, page: Page): Promise<InboundSummary[]> {
  const conditions: (SQL | undefined)[] = [
    filter.status ? eq(inboundMessages.status, filter.status) : undefined,
    filter.sourceId ? eq(inboundMessages.sourceId, filter.sourceId) : undefined,
    pageWhere(page, inboundMessages.createdAt, inboundMessages.id),
  ];
  return executor
    .select(summary)
    .from(inboundMessages)
    .where(and(...conditions))
    .orderBy(...pageOrder(inboundMessages.createdAt, inboundMessages.id))
    .limit(page.limit + 1);
}

export async function findInboundMessage(executor: Executor, id: string): Promise<InboundSummary | null> {
  const [row] = await executor.select(summary).from(inboundMessages).where(eq(inboundMessages.id, id));
  return row ?? null;
}

/** undefined: no such message; null: retention purged its bytes. */
export async function findInboundRaw(executor: Executor, id: string): Promise<Buffer | null | undefined> {
  const [row] = await executor.select({ raw: inboundMessages.raw }).from(inboundMessages).where(eq(inboundMessages.id, id));
  return row === undefined ? undefined : row.raw;
}

export const emptyMessageCounts = (): MessageCounts =>
  Object.fromEntries(INBOUND_STATUSES.map((s) => [s, 0])) as MessageCounts;

/** Counts by status for many sources in one grouped query. */
export async function countMessagesBySource(executor: Executor, sourceIds: string[]): Promise<Map<string, MessageCounts>> {
  const counts = new Map(sourceIds.map((id) => [id, emptyMessageCounts()]));
  if (sourceIds.length === 0) return counts;
  const rows = await executor
    .select({ sourceId: inboundMessages.sourceId, status: inboundMessages.status, n: sql<number>`count(*)`.mapWith(Number) })
    .from(inboundMessages)
    .where(inArray(inboundMessages.sourceId, sourceIds))
    .groupBy(inboundMessages.sourceId, inboundMessages.status);
  for (const row of rows) {
    const forSource = row.sourceId ? counts.get(row.sourceId) : undefined;
    if (forSource) forSource[row.status as InboundStatus] = row.n;
  }
  return counts;
}
