// The error log: what failed (a message, a delivery, a renewal, a connection), when, for which
// source. recordError is its one writer; the failure is recorded where it happens.
import { and, eq, gte, lt, sql, type SQL } from "drizzle-orm";
import type { Executor } from "./client.ts";
import { errorLog } from "./schema.ts";
import { ERROR_KINDS, type ErrorKind } from "./statuses.ts";
import { pageOrder, pageWhere, type Page } from "../http/pagination.ts";

export { ERROR_KINDS, type ErrorKind };

export type NewErrorEntry = { at: Date; kind: ErrorKind; message: string; sourceId?: string | null; details?: unknown };

/** Records one failure, or several in one statement. */
export async function recordError(executor: Executor, entries: NewErrorEntry | NewErrorEntry[]): Promise<void> {
  const rows = Array.isArray(entries) ? entries : [entries];
  if (rows.length === 0) return;
  await executor.insert(errorLog).values(rows.map((e) => ({ at: e.at, kind: e.kind, message: e.message, sourceId: e.sourceId ?? null, details: e.details ?? null })));
}

export type ErrorLogEntry = {
  id: string;
  at: Date;
  sourceId: string | null;
  kind: string;
  message: string;
  details: unknown;
};

/** `since` is inclusive, `until` exclusive, so consecutive windows never count an entry twice. */
export type ErrorLogFilter = { sourceId?: string; kind?: string; since?: Date; until?: Date };

/** Newest first; one row more than the page holds, so the caller knows whether another page follows. */
export async function listErrorLog(executor: Executor, filter: ErrorLogFilter, page: Page): Promise<ErrorLogEntry[]> {
  const conditions: (SQL | undefined)[] = [
    filter.sourceId ? eq(errorLog.sourceId, filter.sourceId) : undefined,
    // Any word may be asked for; one mailgate never writes finds nothing.
    filter.kind ? sql`${errorLog.kind} = ${filter.kind}` : undefined,
    filter.since ? gte(errorLog.at, filter.since) : undefined,
    filter.until ? lt(errorLog.at, filter.until) : undefined,
    pageWhere(page, errorLog.at, errorLog.id),
  ];
  return executor
    .select({
      id: errorLog.id,
      at: errorLog.at,
      sourceId: errorLog.sourceId,
      kind: errorLog.kind,
      message: errorLog.message,
      details: errorLog.details,
    })
    .from(errorLog)
    .where(and(...conditions))
    .orderBy(...pageOrder(errorLog.at, errorLog.id))
    .limit(page.limit + 1);
}
