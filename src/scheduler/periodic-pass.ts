// A pass over some part of the world (the Gmail sources, the Graph sources, the renewals) that
// runs at start and then every `everyMs`, never two at once. A "sources" wake (a source changed,
// Process Now) can run a quick check in the same line, debounced so a burst of wakes costs one;
// the check answers whether a pass is worth running now.
import type { Context } from "../context.ts";
import type { Runtime } from "../runtime.ts";

export type PeriodicPassOptions = {
  /** Named in the log line of a pass that failed. */
  name: string;
  everyMs: number;
  pass: () => Promise<unknown>;
  onSourcesWake?: { debounceMs: number; check: () => Promise<boolean> };
};

export type PeriodicPass = Runtime & {
  /** Settles when the first pass has run (or failed, or the pass was stopped before it). */
  firstPass: Promise<void>;
};

export function startPeriodicPass(ctx: Context, opts: PeriodicPassOptions): PeriodicPass {
  let running = true;
  let firstPassDone = () => {};
  const firstPass = new Promise<void>((resolve) => (firstPassDone = resolve));
  let timer: NodeJS.Timeout | undefined;
  let wakeTimer: NodeJS.Timeout | undefined;
  let current: Promise<unknown> = Promise.resolve();
  const serially = (what: string, fn: () => Promise<unknown>) => {
    current = current.then(fn).catch((err: unknown) => {
      if (!ctx.databaseOutage.report(err)) ctx.log.error({ err }, `the ${opts.name} ${what} failed; it runs again shortly`);
    });
    return current;
  };

  const schedule = (ms: number) => {
    if (!running) return;
    clearTimeout(timer);
    timer = setTimeout(
      () =>
        void serially("pass", opts.pass).finally(() => {
          firstPassDone();
          schedule(opts.everyMs);
        }),
      ms,
    );
  };

  const onWake = opts.onSourcesWake;
  let wakePending = false;
  const unsubscribe = onWake
    ? ctx.database.onWake("sources", () => {
        if (wakePending || !running) return;
        wakePending = true;
        wakeTimer = setTimeout(() => {
          wakePending = false;
          if (!running) return;
          void serially("check", async () => {
            if (await onWake.check()) schedule(0);
          });
        }, onWake.debounceMs).unref();
      })
    : () => undefined;
  schedule(0);

  return {
    firstPass,
    stop: async () => {
      running = false;
      firstPassDone();
      unsubscribe();
      clearTimeout(timer);
      clearTimeout(wakeTimer);
      await current;
    },
  };
}
