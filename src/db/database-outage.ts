// While the database is away every part that uses it fails, each on its own schedule. They all
// report here: the outage is logged once when it starts and once when a probe finds the database
// answering again, instead of a line (and a stack) per request, loop and retry in between.
import type { Logger } from "../log.ts";
import { databaseUnavailableReason } from "./database-unavailable.ts";

export type DatabaseOutage = {
  /**
   * Whether err means the database cannot be reached. If so, it is counted into the current
   * outage (the first one logs it) and the caller should back off rather than log it again.
   */
  report(err: unknown): boolean;
  /** Whether an outage is under way (reported and not yet seen to end). */
  ongoing(): boolean;
  stop(): void;
};

export type OutageOptions = {
  log: Logger;
  /** Resolves when the database answers; rejects (or times out) otherwise. */
  ping: () => Promise<void>;
  probeEveryMs?: number;
  now?: () => number;
};

export function watchDatabaseOutages(opts: OutageOptions): DatabaseOutage {
  const probeEveryMs = opts.probeEveryMs ?? 1_000;
  const now = opts.now ?? Date.now;
  let since: number | null = null;
  let failures = 0;
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;

  const probe = async () => {
    timer = null;
    if (stopped || since === null) return;
    const answered = await opts.ping().then(
      () => true,
      () => false,
    );
    if (stopped) return;
    if (!answered) {
      timer = setTimeout(() => void probe(), probeEveryMs).unref();
      return;
    }
    opts.log.info({ downForMs: now() - since, failures }, "the database answers again; everything waiting on it resumes");
    since = null;
    failures = 0;
  };

  return {
    report(err) {
      const reason = databaseUnavailableReason(err);
      if (reason === null) return false;
      failures++;
      if (since === null && !stopped) {
        since = now();
        opts.log.warn({ reason }, "the database cannot be reached; the API answers 503 and work waits until it is back");
        timer = setTimeout(() => void probe(), probeEveryMs).unref();
      }
      return true;
    },
    ongoing: () => since !== null,
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}
