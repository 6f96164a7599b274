// graph_catch_up: the delta query on the Inbox (created messages only), from the source's cursor.
// Each page's ids become fetch requests in the same transaction that moves the cursor past them,
// so the cursor never gets ahead of durable work. A lost delta state (410, SyncStateNotFound)
// restarts from the watermark: a bounded resync by receivedDateTime, harmless for mail already stored,
// and never reaching back before the source was first connected.
import { eq } from "drizzle-orm";
import type { Context } from "../../context.ts";
import { mailSources } from "../../db/schema.ts";
import type { Executor } from "../../db/client.ts";
import { connectedSince } from "../../db/sources.ts";
import { markSynced, setSourceStatus } from "../source-status.ts";
import { IMMUTABLE_ID_PREFERENCE } from "./graph-endpoints.ts";
import { completeGraphWork, requestCatchUp, requestFetches, type GraphWork } from "./graph-work-queue.ts";
import { requestTimeout, type GraphSession } from "./graph-session.ts";
import {
  catchUpStart,
  cursorAfterPage,
  cursorForResync,
  initialDeltaPath,
  parseGraphCursor,
  resyncSince,
  type GraphCursor,
} from "./delta-cursor.ts";

/** Pages per run; a longer backlog continues in a fresh run (the cursor holds the nextLink). */
const MAX_PAGES_PER_RUN = 200;
const PAGE_SIZE = 100;

type DeltaPage = {
  value?: Array<{ id?: unknown; "@removed"?: unknown }>;
  "@odata.nextLink"?: string;
  "@odata.deltaLink"?: string;
};

export type CatchUpResult = { pages: number; requested: number; resynced: boolean };

export async function catchUpGraphSource(ctx: Context, session: GraphSession, work: GraphWork): Promise<CatchUpResult> {
  const sourceId = work.sourceId;
  const startedAt = ctx.clock.now();
  const stored = await loadCursor(ctx.db, sourceId);
  let cursor = parseGraphCursor(stored.cursor);
  const start = catchUpStart(cursor, startedAt, stored.connectedAt);
  let url = start.kind === "link" ? start.url : initialDeltaPath(start.since);
  const result: CatchUpResult = { pages: 0, requested: 0, resynced: false };

  while (result.pages < MAX_PAGES_PER_RUN) {
    let page: DeltaPage;
    try {
      page = (await session.client
        .api(url)
        .header("Prefer", `${IMMUTABLE_ID_PREFERENCE}, odata.maxpagesize=${PAGE_SIZE}`)
        .option("signal", requestTimeout())
        .get()) as DeltaPage;
    } catch (err) {
      const failure = session.failureOf(err);
      if (failure.kind !== "sync_state_lost" || result.resynced) throw err;
      ctx.log.warn({ sourceId, reason: failure.message }, "Graph lost the delta state; resyncing by receivedDateTime");
      cursor = cursorForResync(cursor);
      await saveCursor(ctx.db, sourceId, cursor);
      url = initialDeltaPath(resyncSince(cursor, ctx.clock.now(), stored.connectedAt));
      result.resynced = true;
      continue;
    }
    result.pages++;
    const ids = (page.value ?? [])
      .filter((item) => item["@removed"] === undefined && typeof item.id === "string")
      .map((item) => item.id as string);
    const next = cursorAfterPage(cursor, { nextLink: page["@odata.nextLink"], deltaLink: page["@odata.deltaLink"] }, startedAt);
    const requested = await ctx.db.transaction(async (tx) => {
      const n = await requestFetches(tx, sourceId, ids, ctx.clock.now());
      await saveCursor(tx, sourceId, next);
      return n;
    });
    cursor = next;
    result.requested += requested;
    if (requested > 0) ctx.database.wake("graph_sync");
    if (!page["@odata.nextLink"]) break;
    url = page["@odata.nextLink"];
  }

  await ctx.db.transaction(async (tx) => {
    // More pages than one run takes: the next run resumes from the stored nextLink.
    if (cursor.nextLink) await requestCatchUp(tx, sourceId, "continue", ctx.clock.now());
    await completeGraphWork(tx, work);
  });
  await markSynced(ctx, sourceId);
  await markConnected(ctx, sourceId);
  return result;
}

/** Reading worked: a source that was connecting or failing is connected (its event fires once). */
export async function markConnected(ctx: Context, sourceId: string): Promise<void> {
  const [row] = await ctx.db.select({ status: mailSources.status }).from(mailSources).where(eq(mailSources.id, sourceId));
  // Leaving `connected` alone keeps a renewal problem shown in lastError until a renewal clears it.
  if (row && row.status !== "connected" && row.status !== "disabled") await setSourceStatus(ctx, sourceId, { status: "connected" });
}

async function loadCursor(executor: Executor, sourceId: string): Promise<{ cursor: unknown; connectedAt: Date }> {
  const [row] = await executor
    .select({ cursor: mailSources.cursor, connectedAt: mailSources.connectedAt, createdAt: mailSources.createdAt })
    .from(mailSources)
    .where(eq(mailSources.id, sourceId));
  // A source deleted meanwhile has no row; the epoch leaves the window as it was.
  return { cursor: row?.cursor ?? null, connectedAt: row ? connectedSince(row) : new Date(0) };
}

export async function saveCursor(executor: Executor, sourceId: string, cursor: GraphCursor): Promise<void> {
  await executor.update(mailSources).set({ cursor }).where(eq(mailSources.id, sourceId));
}
