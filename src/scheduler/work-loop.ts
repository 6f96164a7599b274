// A pool of loops that each take one unit of work at a time: woken at once on a channel
// (LISTEN/NOTIFY, or the in-process signal on PGlite), polling as a fallback for due retries.
import type { Channel, Database } from "../db/client.ts";
import type { DatabaseOutage } from "../db/database-outage.ts";
import type { Logger } from "../log.ts";

export type WorkLoop = { stop(): Promise<void> };

export type WorkLoopOptions = {
  name: string;
  database: Database;
  channel: Channel;
  concurrency: number;
  pollMs: number;
  log: Logger;
  databaseOutage: DatabaseOutage;
  /**
   * Does one unit of work; resolves false when there was nothing to do. It calls `more()` as soon
   * as it knows more work is waiting than it took (its claim came back full): the next loop then
   * starts on it at once instead of when this step ends.
   */
  step: (more: () => void) => Promise<boolean>;
};

export function startWorkLoop(opts: WorkLoopOptions): WorkLoop {
  let running = true;
  const sleepers = new Set<() => void>();
  const wakeAll = () => {
    for (const wake of [...sleepers]) wake();
  };
  // A signal wakes one sleeper; a loop that found work wakes the next. A single new message then
  // costs one claim, not one per idle loop, and a burst still spreads over every loop: a loop
  // whose claim comes back full wakes the next one right away (`more`), so a clump of mail that
  // arrives with one signal (an IMAP batch of 200 stored at once) has every loop on it within a
  // claim's round trip. Woken only when a step ended, the loops joined one batch's processing
  // after another: in bench:imap the second and third batches of a burst started ~120 ms after
  // the first, with their mail already waiting.
  // A signal that finds every loop busy is kept: the next loop about to sleep claims again
  // instead (a loop whose claim came up empty just before the signal would otherwise sleep
  // through it, a whole poll interval).
  let missed = false;
  const wakeOne = () => {
    const [first] = sleepers;
    if (first) first();
    else missed = true;
  };
  const unsubscribe = opts.database.onWake(opts.channel, wakeOne);

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      // stop() may have run while this loop was busy: nobody would wake it then.
      if (!running) return resolve();
      if (missed) {
        missed = false;
        return resolve();
      }
      const done = () => {
        clearTimeout(timer);
        sleepers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      sleepers.add(done);
    });

  const loop = async (slot: number) => {
    let failures = 0;
    while (running) {
      try {
        const didWork = await opts.step(wakeOne);
        failures = 0;
        if (didWork) wakeOne();
        else await sleep(opts.pollMs);
      } catch (err) {
        // The step records what belongs to a message itself; what reaches here is the database
        // being away (logged once for the whole outage) or a bug. Back off instead of spinning.
        failures++;
        if (!opts.databaseOutage.report(err)) opts.log.error({ err, loop: opts.name, slot }, "work loop step failed");
        await sleep(Math.min(30_000, 250 * 2 ** Math.min(failures, 7)));
      }
    }
  };
  const loops = Array.from({ length: opts.concurrency }, (_, i) => loop(i));

  return {
    stop: async () => {
      running = false;
      unsubscribe();
      wakeAll();
      await Promise.all(loops);
    },
  };
}
