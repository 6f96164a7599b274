// The error log, read side: what failed (a message, a delivery, a renewal, a connection), when,
// for which source. Writers insert into error_log where the failure happens.
import { and, eq, gte, lt, type SQL } from "drizzle-orm";
import type { Executor } from "./client.ts";
import { errorLog } from "./schema.ts";
import { pageOrder, pageWhere, type Page } from "../http/pagination.ts";

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
    filter.kind ? eq(errorLog.kind, filter.kind) : undefined,
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
