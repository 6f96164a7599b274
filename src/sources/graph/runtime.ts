// Starts and stops the Graph sources this instance owns: workers for the durable Graph work
// (fetches, catch-ups, lifecycle events) on every instance, and, on the one instance holding the
// lease, the periodic pass over sources and the renewal of every push subscription (Graph and Gmail).
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { Context } from "../../context.ts";
import type { Runtime } from "../../runtime.ts";
import { acquireLease, releaseLease } from "../../scheduler/leases.ts";
import { startWorkLoop } from "../../scheduler/work-loop.ts";
import { createRenewalBackoff, renewDueSubscriptions } from "../renew-subscriptions.ts";
import { createGraphWorker } from "./graph-work.ts";
import { hasProcessNowRequest, newSupervisorState, superviseGraphSources } from "./supervise-sources.ts";

export type GraphRuntimeOptions = {
  /** Parallel Graph workers (fetches overlap their network time even on the embedded database). */
  concurrency?: number;
  /** How often an idle worker looks for due work it was not woken for (retries, leases run out). */
  pollMs?: number;
  /** How often the lease holder passes over sources and renewals. */
  superviseEveryMs?: number;
  /** The safety-net catch-up interval of sources that collect continuously (5 minutes). */
  safetyNetIntervalMs?: number;
};

const LEASE_NAME = "graph-sources-supervisor";
/** After a wake, the Process Now check waits this long, so a burst of notifications costs one check. */
const WAKE_DEBOUNCE_MS = 500;

export function startGraphSources(ctx: Context, opts: GraphRuntimeOptions = {}): Runtime {
  const worker = createGraphWorker(ctx);
  const loop = startWorkLoop({
    name: "graph",
    database: ctx.database,
    channel: "sync",
    concurrency: opts.concurrency ?? (ctx.database.kind === "pglite" ? 4 : 8),
    pollMs: opts.pollMs ?? 1000,
    log: ctx.log,
    databaseOutage: ctx.databaseOutage,
    step: worker.step,
  });
  const supervisor = startSupervisor(ctx, opts);
  return {
    stop: async () => {
      await supervisor.stop();
      await loop.stop();
    },
  };
}

function startSupervisor(ctx: Context, opts: GraphRuntimeOptions): Runtime {
  const everyMs = opts.superviseEveryMs ?? 30_000;
  const holder = `${hostname()}:${process.pid}:${randomBytes(4).toString("hex")}`;
  const state = newSupervisorState(opts.safetyNetIntervalMs);
  const backoff = createRenewalBackoff();
  let running = true;
  let timer: NodeJS.Timeout | undefined;
  let current: Promise<void> = Promise.resolve();

  const pass = async () => {
    const now = ctx.clock.now();
    if (!(await acquireLease(ctx.db, LEASE_NAME, holder, now, everyMs * 3))) {
      // Another instance supervises; if it dies, its lease lapses and this one takes over with a fresh start.
      state.started.clear();
      return;
    }
    await superviseGraphSources(ctx, state);
    await renewDueSubscriptions(ctx, backoff);
  };

  const schedule = (ms: number) => {
    if (!running) return;
    clearTimeout(timer);
    timer = setTimeout(() => {
      current = current
        .then(pass)
        .catch((err: unknown) => void (ctx.databaseOutage.report(err) || ctx.log.error({ err }, "the Graph sources pass failed; it runs again shortly")))
        .finally(() => schedule(everyMs));
    }, ms);
  };
  // The sync channel also wakes for every notification: only a Process Now is worth a pass early.
  let wakePending = false;
  let wakeTimer: NodeJS.Timeout | undefined;
  const unsubscribe = ctx.database.onWake("sync", () => {
    if (wakePending || !running) return;
    wakePending = true;
    wakeTimer = setTimeout(() => {
      if (!running) return;
      hasProcessNowRequest(ctx)
        .then((pending) => pending && schedule(0))
        .catch((err: unknown) => void (ctx.databaseOutage.report(err) || ctx.log.warn({ err }, "checking for Process Now failed")))
        .finally(() => (wakePending = false));
    }, WAKE_DEBOUNCE_MS).unref();
  });
  schedule(0);

  return {
    stop: async () => {
      running = false;
      unsubscribe();
      clearTimeout(timer);
      clearTimeout(wakeTimer);
      await current;
      await releaseLease(ctx.db, LEASE_NAME, holder).catch(() => undefined);
    },
  };
}
