// One unit of Graph work: claim it, run it, and on failure decide when it runs again. Throttling
// waits for Retry-After; a revoked grant waits for re-authorization (the source is needs_reauth
// and its work is not claimed); anything else backs off, and a failed catch-up marks the source
// as failing.
import type { Context } from "../../context.ts";
import { setSourceStatus } from "../source-status.ts";
import { backoffMs, type GraphFailure } from "./graph-failure.ts";
import { catchUpGraphSource } from "./catch-up.ts";
import { fetchGraphMessage } from "./fetch-message.ts";
import { handleLifecycleEvent } from "./lifecycle.ts";
import { openGraphSession } from "./graph-session.ts";
import { claimGraphWork, deferGraphWork, GRAPH_CATCH_UP, GRAPH_FETCH, type GraphWork } from "./graph-work-queue.ts";

/** How long a claimed item stays leased to its worker; a crashed worker's item comes due after it. */
const LEASE_MS = 5 * 60_000;

export type GraphWorker = { step(more?: () => void): Promise<boolean> };

export function createGraphWorker(ctx: Context): GraphWorker {
  // Catch-ups and lifecycle work of one source run one at a time in this process.
  const busy = new Set<string>();
  return {
    step: async (more) => {
      const now = ctx.clock.now();
      const work = await claimGraphWork(ctx.db, { now, leaseUntil: new Date(now.getTime() + LEASE_MS), busySources: [...busy] });
      if (!work) return false;
      // More is due: the next loop takes it beside this one.
      if (work.moreDue) more?.();
      const exclusive = work.kind !== GRAPH_FETCH;
      if (exclusive) busy.add(work.sourceId);
      try {
        await runGraphWork(ctx, work);
      } finally {
        if (exclusive) busy.delete(work.sourceId);
      }
      // The claims made meanwhile passed over this source's other catch-up and lifecycle work.
      if (exclusive) more?.();
      return true;
    },
  };
}

export async function runGraphWork(ctx: Context, work: GraphWork): Promise<void> {
  const session = openGraphSession(ctx, work.sourceId);
  try {
    switch (work.kind) {
      case GRAPH_FETCH:
        await fetchGraphMessage(ctx, session, work);
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
