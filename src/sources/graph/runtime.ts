// Starts and stops the Graph sources, on the instance holding the "sources:graph" lease
// (runtime.ts): workers for the durable Graph work (fetches, catch-ups, lifecycle events) and the
// periodic pass over sources. Subscriptions are renewed by scheduler/renewals.ts.
import type { Context } from "../../context.ts";
import type { Runtime } from "../../runtime.ts";
import { startWorkLoop } from "../../scheduler/work-loop.ts";
import { startPeriodicPass, type PeriodicPass } from "../../scheduler/periodic-pass.ts";
import { createGraphWorker } from "./graph-work.ts";
import { hasProcessNowRequest, newSupervisorState, superviseGraphSources } from "./supervise-sources.ts";

export type GraphRuntimeOptions = {
  /** Parallel Graph workers (fetches overlap their network time even on the embedded database). */
  concurrency?: number;
  /** How often an idle worker looks for due work it was not woken for (retries, leases run out). */
  pollMs?: number;
  /** How often the pass over sources runs. */
  superviseEveryMs?: number;
  /** The safety-net catch-up interval of sources that collect continuously (5 minutes). */
  safetyNetIntervalMs?: number;
};

/** After a wake, the Process Now check waits this long, so a burst of notifications costs one check. */
const WAKE_DEBOUNCE_MS = 500;

export function startGraphSources(ctx: Context, opts: GraphRuntimeOptions = {}): Runtime {
  // Workers start once the first pass has asked for its "start" catch-ups, so each joins a
  // pending catch-up instead of arriving mid-run and asking for a second one.
  let catchUpsRequested = () => {};
  const workersMayStart = new Promise<void>((resolve) => (catchUpsRequested = resolve));
  const supervisor = startSupervisor(ctx, opts, catchUpsRequested);
  let stopped = false;
  const loop = Promise.race([workersMayStart, supervisor.firstPass]).then(() =>
    stopped
      ? null
      : startWorkLoop({
          name: "graph",
          database: ctx.database,
          channel: "graph_sync",
          concurrency: opts.concurrency ?? (ctx.database.kind === "pglite" ? 4 : 8),
          pollMs: opts.pollMs ?? 1000,
          log: ctx.log,
          databaseOutage: ctx.databaseOutage,
          step: createGraphWorker(ctx).step,
        }),
  );
  return {
    stop: async () => {
      stopped = true;
      await supervisor.stop();
      await (await loop)?.stop();
    },
  };
}

function startSupervisor(ctx: Context, opts: GraphRuntimeOptions, catchUpsRequested: () => void): PeriodicPass {
  const state = newSupervisorState(opts.safetyNetIntervalMs, ctx.clock.now().getTime());
  return startPeriodicPass(ctx, {
    name: "Graph sources",
    everyMs: opts.superviseEveryMs ?? 30_000,
    pass: () => superviseGraphSources(ctx, state, catchUpsRequested),
    // A source changed or Process Now was asked: only a Process Now is worth a pass early.
    onSourcesWake: { debounceMs: WAKE_DEBOUNCE_MS, check: () => hasProcessNowRequest(ctx) },
  });
}
