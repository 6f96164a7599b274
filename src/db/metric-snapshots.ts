// What /metrics reads from the database on each scrape: one query per gauge, none of them
// touching raw bytes or secrets.
import { eq, isNotNull, sql } from "drizzle-orm";
import type { Executor } from "./client.ts";
import { inboundMessages, mailSources, pushSubscriptions, webhookDeliveries } from "./schema.ts";

export async function countMessagesBySourceAndStatus(executor: Executor): Promise<{ sourceId: string | null; status: string; count: number }[]> {
  return executor
    .select({ sourceId: inboundMessages.sourceId, status: inboundMessages.status, count: sql<number>`count(*)::int` })
    .from(inboundMessages)
    .groupBy(inboundMessages.sourceId, inboundMessages.status);
}

/** Pending deliveries that already failed at least once, and those whose next attempt is due but not yet sent (not leased by a dispatcher). */
export async function deliveryBacklog(executor: Executor, now: Date): Promise<{ retrying: number; due: number }> {
  const [row] = await executor
    .select({
      retrying: sql<number>`(count(*) filter (where ${webhookDeliveries.attempts} > 0))::int`,
      due: sql<number>`(count(*) filter (where ${webhookDeliveries.nextAttemptAt} <= ${now.toISOString()}::timestamptz
                                        and (${webhookDeliveries.leasedUntil} is null or ${webhookDeliveries.leasedUntil} <= ${now.toISOString()}::timestamptz)))::int`,
    })
    .from(webhookDeliveries)
    .where(eq(webhookDeliveries.status, "pending"));
  return row ?? { retrying: 0, due: 0 };
}

export async function sourceStatuses(executor: Executor): Promise<{ id: string; kind: string; name: string; status: string }[]> {
  return executor
    .select({ id: mailSources.id, kind: mailSources.kind, name: mailSources.name, status: mailSources.status })
    .from(mailSources);
}

export async function subscriptionExpiries(executor: Executor): Promise<{ id: string; sourceId: string; provider: string; expiresAt: Date | null }[]> {
  return executor
    .select({
      id: pushSubscriptions.id,
      sourceId: pushSubscriptions.sourceId,
      provider: pushSubscriptions.provider,
      expiresAt: pushSubscriptions.expiresAt,
    })
    .from(pushSubscriptions)
    .where(isNotNull(pushSubscriptions.expiresAt));
}
