// Graph work: claim what is due, run it, and on failure decide when it runs again. Throttling
// waits for Retry-After; a revoked grant waits for re-authorization (the source is needs_reauth
// and its work is not claimed); anything else backs off, and a failed catch-up marks the source
// as failing. A claim takes up to CLAIM_SIZE items with one statement and runs them side by side;
// the messages of fetches ending at the same time are stored together (fetch-message.ts).
import type { Context } from "../../context.ts";
import { setSourceStatus } from "../source-status.ts";
import { backoffMs, type GraphFailure } from "./graph-failure.ts";
import { catchUpGraphSource } from "./catch-up.ts";
import { createFetchStore, fetchGraphMessage, type StoreFetched } from "./fetch-message.ts";
import { handleLifecycleEvent } from "./lifecycle.ts";
import { openGraphSession } from "./graph-session.ts";
import { claimGraphWork, deferGraphWork, GRAPH_CATCH_UP, GRAPH_FETCH, returnGraphWork, type GraphWork } from "./graph-work-queue.ts";

/** How long a claimed item stays leased to its worker; a crashed worker's item comes due after it. */
const LEASE_MS = 5 * 60_000;
/** Items one claim takes: enough to share the claim's statements in a burst, few enough that a loop's work ends together. */
export const CLAIM_SIZE = 8;

export type GraphWorker = { step(more?: () => void): Promise<boolean> };

export function createGraphWorker(ctx: Context): GraphWorker {
  // Catch-ups and lifecycle work of one source run one at a time in this process.
  const busy = new Set<string>();
  const store = createFetchStore(ctx);
  return {
    step: async (more) => {
      const now = ctx.clock.now();
      const { work, moreDue } = await claimGraphWork(ctx.db, { now, leaseUntil: new Date(now.getTime() + LEASE_MS), busySources: [...busy], limit: CLAIM_SIZE });
      if (work.length === 0) return false;
      // More is due: the next loop takes it beside this.
      if (moreDue) more?.();
      const run: GraphWork[] = [];
      const exclusive: GraphWork[] = [];
      const second: GraphWork[] = [];
      for (const item of work) {
        if (item.kind === GRAPH_FETCH) {
          run.push(item);
        } else if (busy.has(item.sourceId)) {
          // A claim can hold two exclusive items of one source: the second goes back, due at once.
          second.push(item);
        } else {
          busy.add(item.sourceId);
          exclusive.push(item);
          run.push(item);
        }
      }
      try {
        if (second.length > 0) await returnGraphWork(ctx.db, second, now);
        const failed = (await Promise.allSettled(run.map((item) => runGraphWork(ctx, item, store)))).find((r) => r.status === "rejected");
        // Every item ends before the step does; a failure to record one (the database away) then reaches the loop.
        if (failed) throw failed.reason;
      } finally {
        for (const item of exclusive) busy.delete(item.sourceId);
      }
      // The claims made meanwhile passed over these sources' other catch-up and lifecycle work.
      if (exclusive.length > 0) more?.();
      return true;
    },
  };
}

export async function runGraphWork(ctx: Context, work: GraphWork, store: StoreFetched): Promise<void> {
  const session = openGraphSession(ctx, work.sourceId);
  try {
    switch (work.kind) {
      case GRAPH_FETCH:
        await fetchGraphMessage(ctx, session, store, work);
        return;
      case GRAPH_CATCH_UP:
        await catchUpGraphSource(ctx, session, work);
        return;
      default:
        await handleLifecycleEvent(ctx, work);
        return;
    }
  } catch (err) {
    await settleFailure(ctx, work, session.failureOf(err), err);
  }
}

async function settleFailure(ctx: Context, work: GraphWork, failure: GraphFailure, err: unknown): Promise<void> {
  const now = ctx.clock.now();
  const delay = failure.kind === "throttled" ? failure.retryAfterMs : failure.kind === "reauth" ? 10 * 60_000 : backoffMs(work.attempts);
  // One line per attempt (each is a backoff step) in words; the stack only for whoever debugs.
  ctx.log.debug({ err, sourceId: work.sourceId, kind: work.kind, attempts: work.attempts }, "Graph work attempt failed");
  ctx.log.warn(
    { sourceId: work.sourceId, kind: work.kind, key: work.key, attempts: work.attempts, failure: failure.kind, retryInMs: delay },
    `Graph work failed: ${failure.message}; will retry`,
  );
  await deferGraphWork(ctx.db, work, failure.message, new Date(now.getTime() + delay));
  // The first failed catch-up shows on the source; an unreachable Graph is announced only once it has lasted.
  if (work.kind === GRAPH_CATCH_UP && failure.kind !== "reauth" && failure.kind !== "throttled") {
    await setSourceStatus(ctx, work.sourceId, {
      status: "error",
      error: { code: `graph_${failure.kind}`, message: `Reading the mailbox through Microsoft Graph failed: ${failure.message}` },
      transient: failure.kind === "transient",
    });
  }
}
