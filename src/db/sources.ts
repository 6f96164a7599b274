// Mail sources as rows: create, read, change, delete, and "Process Now" requests.
// Secrets stay sealed here; callers open them with ctx.secrets when they need them.
import { asc, eq, inArray, sql } from "drizzle-orm";
import { pgArray, type Executor } from "./client.ts";
import { companies, mailSources, pushSubscriptions } from "./schema.ts";
import type { SourceSubscription } from "../sources/source-view.ts";
import type { Page } from "../http/pagination.ts";
import { pageOrder, pageWhere } from "../http/pagination.ts";

export type SourceRecord = typeof mailSources.$inferSelect;
export type NewSource = Pick<SourceRecord, "kind" | "name" | "address" | "role" | "companyId" | "config" | "secrets" | "schedule" | "status"> & {
  acknowledgement?: SourceRecord["acknowledgement"];
  at: Date;
};
export type SourceChanges = Partial<
  Pick<SourceRecord, "name" | "address" | "role" | "companyId" | "config" | "secrets" | "schedule" | "acknowledgement" | "status" | "lastError" | "lastErrorAt">
>;

/**
 * When the source was first connected: mail older than that is never ticketed. A source connected
 * before connected_at was recorded answers its createdAt, which is never later than its connection.
 */
export const connectedSince = (row: Pick<SourceRecord, "connectedAt" | "createdAt">): Date => row.connectedAt ?? row.createdAt;

export async function insertSource(executor: Executor, s: NewSource): Promise<SourceRecord> {
  const { at, ...values } = s;
  const [row] = await executor.insert(mailSources).values({ ...values, createdAt: at, updatedAt: at }).returning();
  if (!row) throw new Error("mail source insert returned nothing");
  return row;
}

export async function findSource(executor: Executor, id: string): Promise<SourceRecord | null> {
  const [row] = await executor.select().from(mailSources).where(eq(mailSources.id, id));
  return row ?? null;
}

/** The sources that still exist among `ids`, by id. */
export async function findSources(executor: Executor, ids: string[]): Promise<Map<string, SourceRecord>> {
  if (ids.length === 0) return new Map();
  const rows = await executor.select().from(mailSources).where(sql`${mailSources.id} = any(${pgArray(ids)}::uuid[])`);
  return new Map(rows.map((r) => [r.id, r]));
}

/** Newest first; one row more than the page holds, so the caller knows whether another page follows. */
export async function listSources(executor: Executor, page: Page): Promise<SourceRecord[]> {
  return executor
    .select()
    .from(mailSources)
    .where(pageWhere(page, mailSources.createdAt, mailSources.id))
    .orderBy(...pageOrder(mailSources.createdAt, mailSources.id))
    .limit(page.limit + 1);
}

export async function updateSource(executor: Executor, id: string, changes: SourceChanges, at: Date): Promise<SourceRecord | null> {
  const [row] = await executor
    .update(mailSources)
    .set({ ...changes, updatedAt: at })
    .where(eq(mailSources.id, id))
    .returning();
  return row ?? null;
}

export async function deleteSource(executor: Executor, id: string): Promise<boolean> {
  const rows = await executor.delete(mailSources).where(eq(mailSources.id, id)).returning({ id: mailSources.id });
  return rows.length > 0;
}

/** "Process Now": the source's owner sees sync_requested_at, runs a sync and clears it. */
export async function requestSync(executor: Executor, id: string, at: Date): Promise<boolean> {
  const rows = await executor
    .update(mailSources)
    .set({ syncRequestedAt: at })
    .where(eq(mailSources.id, id))
    .returning({ id: mailSources.id });
  return rows.length > 0;
}

export async function companyExists(executor: Executor, id: string): Promise<boolean> {
  const [row] = await executor.select({ id: companies.id }).from(companies).where(eq(companies.id, id));
  return row !== undefined;
}

/** The newest push subscription of each source (Gmail watch, Graph subscription), in one query. */
export async function subscriptionsBySource(executor: Executor, sourceIds: string[]) {
  if (sourceIds.length === 0) return new Map<string, SourceSubscription>();
  const rows = await executor
    .select({
      id: pushSubscriptions.id,
      sourceId: pushSubscriptions.sourceId,
      provider: pushSubscriptions.provider,
      status: pushSubscriptions.status,
      expiresAt: pushSubscriptions.expiresAt,
      lastRenewedAt: pushSubscriptions.lastRenewedAt,
    })
    .from(pushSubscriptions)
    .where(inArray(pushSubscriptions.sourceId, sourceIds))
    .orderBy(asc(pushSubscriptions.createdAt));
  return new Map<string, SourceSubscription>(rows.map(({ sourceId, ...sub }) => [sourceId, sub]));
}
