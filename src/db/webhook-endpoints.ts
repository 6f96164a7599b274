// webhook_endpoints: where events go. The signing secret is sealed at rest and only its
// plaintext at creation (or rotation) ever leaves this process.
import { and, eq, sql } from "drizzle-orm";
import type { Executor } from "./client.ts";
import { webhookEndpoints } from "./schema.ts";

export type EndpointRow = typeof webhookEndpoints.$inferSelect;

export type EndpointView = {
  id: string;
  url: string;
  events: string[] | null;
  companyId: string | null;
  description: string | null;
  enabled: boolean;
  disabledReason: string | null;
  failingSince: string | null;
  secretRotatingUntil: string | null;
  createdAt: string;
  updatedAt: string;
};

export function endpointView(row: EndpointRow): EndpointView {
  return {
    id: row.id,
    url: row.url,
    events: row.events,
    companyId: row.companyId,
    description: row.description,
    enabled: row.enabled,
    disabledReason: row.disabledReason,
    failingSince: row.failingSince?.toISOString() ?? null,
    secretRotatingUntil: row.previousSecretExpiresAt?.toISOString() ?? null,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

export async function getEndpoint(executor: Executor, id: string): Promise<EndpointRow | null> {
  const [row] = await executor.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, id));
  return row ?? null;
}

/** Disables an endpoint with the reason shown to operators; idempotent. */
export async function disableEndpoint(executor: Executor, id: string, reason: string, now: Date): Promise<void> {
  await executor
    .update(webhookEndpoints)
    .set({ enabled: false, disabledReason: reason, updatedAt: now })
    .where(and(eq(webhookEndpoints.id, id), eq(webhookEndpoints.enabled, true)));
}

/** Marks an endpoint as failing from `now` unless it already is; returns since when it fails. */
export async function markEndpointFailing(executor: Executor, id: string, now: Date): Promise<Date | null> {
  const [row] = await executor
    .update(webhookEndpoints)
    .set({ failingSince: sql`coalesce(${webhookEndpoints.failingSince}, ${now.toISOString()}::timestamptz)` })
    .where(eq(webhookEndpoints.id, id))
    .returning({ failingSince: webhookEndpoints.failingSince });
  return row?.failingSince ?? null;
}
