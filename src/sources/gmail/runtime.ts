// Starts and stops the Gmail sources this instance owns: sync workers on the durable sync
// requests (woken on "gmail_sync"), Process Now, and the periodic supervisor pass (start-up catch-up,
// safety net, missing watches, pull subscribers, users.stop of deleted sources). Renewal of
// existing watches is the shared pass over every push subscription (../renew-subscriptions.ts).
import type { Context } from "../../context.ts";
import type { Runtime } from "../../runtime.ts";
import { startWorkLoop } from "../../scheduler/work-loop.ts";
import { startPeriodicPass } from "../../scheduler/periodic-pass.ts";
import { takeProcessNowRequests } from "./process-now.ts";
import { SAFETY_NET_INTERVAL_MS } from "./supervision-timing.ts";
import { closeSubscribers, newSupervisorState, superviseGmailSources } from "./supervise-sources.ts";
import { createSyncWorker } from "./sync-worker.ts";

export type GmailRuntimeOptions = {
  /** Parallel syncs (of different mailboxes: one mailbox is never synced twice at once). */
  concurrency?: number;
  /** How often an idle worker looks for due requests it was not woken for (retries after backoff). */
  pollMs?: number;
  /** How often the supervisor passes over the Gmail sources. */
  superviseEveryMs?: number;
  safetyNetIntervalMs?: number;
};

/** After a "sources" wake (a source changed, Process Now), Process Now is looked for this much later, so a burst of wakes costs one query. */
const PROCESS_NOW_DEBOUNCE_MS = 250;

export function startGmailSources(ctx: Context, opts: GmailRuntimeOptions = {}): Runtime {
  const worker = createSyncWorker(ctx);
  const loop = startWorkLoop({
    name: "gmail-sync",
    database: ctx.database,
    channel: "gmail_sync",
    // A sync mostly waits on Google's API, so with many mailboxes pushing, two slots would queue
    // them behind each other; an idle slot costs nothing, as a signal wakes only one.
    concurrency: opts.concurrency ?? 8,
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

function startSupervisor(ctx: Context, opts: GmailRuntimeOptions): Runtime {
  const state = newSupervisorState(opts.safetyNetIntervalMs ?? SAFETY_NET_INTERVAL_MS, ctx.clock.now().getTime());
  const pass = startPeriodicPass(ctx, {
    name: "Gmail sources",
    everyMs: opts.superviseEveryMs ?? 30_000,
    pass: () => superviseGmailSources(ctx, state),
    // A Process Now becomes a forced sync request; the pass itself can wait.
    onSourcesWake: { debounceMs: PROCESS_NOW_DEBOUNCE_MS, check: async () => (await takeProcessNowRequests(ctx), false) },
  });
  return {
    stop: async () => {
      await pass.stop();
      await closeSubscribers(state);
    },
  };
}
