// A pool of loops that each take one unit of work at a time: woken at once on a channel
// (LISTEN/NOTIFY, or the in-process signal on PGlite), and by a poll as a fallback for due retries.
import type { Channel, Database } from "../db/client.ts";
import type { DatabaseOutage } from "../db/database-outage.ts";
import type { Logger } from "../log.ts";
import { exponentialMs } from "./backoff.ts";
import { createWakeableSleep } from "./wakeable-sleep.ts";

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
   * Does one unit of work, or finds none. It calls `more()` as soon as it knows more work is
   * waiting than it took (its claim came back full): the next loop then starts on it at once
   * instead of when this step ends, and this loop claims again when the step is done. Without
   * `more()` the loop sleeps until the next signal: what it took was all there was.
   */
  step: (more: () => void) => Promise<unknown>;
};

export function startWorkLoop(opts: WorkLoopOptions): WorkLoop {
  let running = true;
  const wakeup = createWakeableSleep();
  // A signal wakes one sleeper, and a loop claims again only when its step said more is waiting.
  // A single new message then costs one claim, with no empty claims after it, and a burst still
  // spreads over every loop: a loop whose claim comes back full wakes the next one right away
  // (`more`), so a clump of mail that arrives with one signal (an IMAP batch stored at once) has
  // every loop on it within a claim's round trip, instead of joining one after another.
  // A signal that finds every loop busy is kept (wakeOne): the next loop about to sleep claims
  // again instead of sleeping through it, a whole poll interval. So work that lands while a step
  // runs, after its claim, is never slept through.
  const wakeOne = () => wakeup.wakeOne();
  const unsubscribe = opts.database.onWake(opts.channel, wakeOne);
  // The fallback poll is one claim per interval for the whole pool, not one per idle loop, and
  // it goes on while some loops are busy: the timer wakes one sleeper as a signal would.
  const poll = setInterval(wakeOne, opts.pollMs);
  poll.unref();
  // stop() may have run while this loop was busy: nobody would wake it then.
  const sleep = (ms: number) => (running ? wakeup.sleep(ms) : Promise.resolve());

  const loop = async (slot: number) => {
    let failures = 0;
    while (running) {
      let moreWaiting = false;
      // This loop claims again itself, so a more() that finds every other loop busy is not kept.
      const more = () => {
        moreWaiting = true;
        wakeup.wakeSleeping();
      };
      try {
        await opts.step(more);
        failures = 0;
        if (!moreWaiting) await sleep(Infinity);
      } catch (err) {
        // The step records what belongs to a message itself; what reaches here is the database
        // being away (logged once for the whole outage) or a bug. Back off instead of spinning.
        failures++;
        if (!opts.databaseOutage.report(err)) opts.log.error({ err, loop: opts.name, slot }, "work loop step failed");
        await sleep(exponentialMs(failures, 500, 30_000));
      }
    }
  };
  const loops = Array.from({ length: opts.concurrency }, (_, i) => loop(i));

  return {
    stop: async () => {
      running = false;
      clearInterval(poll);
      unsubscribe();
      wakeup.wake();
      await Promise.all(loops);
    },
  };
}
