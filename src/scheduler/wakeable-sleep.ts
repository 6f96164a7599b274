// A sleep that something else can cut short: a loop waits for its next signal (new work, Process
// Now, stop) or a deadline, whichever comes first. Every waiting loop in mailgate sleeps on one.

export type WakeableSleep = {
  /** Resolves after `ms` (never, for Infinity) or when woken. */
  sleep(ms: number): Promise<void>;
  /** Wakes every sleeper. */
  wake(): void;
  /**
   * Wakes one sleeper; with none asleep, the next sleep returns at once instead, so a signal that
   * comes while every loop is busy is not slept through.
   */
  wakeOne(): void;
  /** Wakes one sleeper if there is one; with none asleep, nothing is kept. */
  wakeSleeping(): void;
};

export function createWakeableSleep(): WakeableSleep {
  const sleepers = new Set<() => void>();
  let missed = false;
  return {
    sleep: (ms) =>
      new Promise<void>((resolve) => {
        if (missed) {
          missed = false;
          return resolve();
        }
        const done = () => {
          if (timer !== undefined) clearTimeout(timer);
          sleepers.delete(done);
          resolve();
        };
        const timer = Number.isFinite(ms) ? setTimeout(done, Math.max(0, ms)) : undefined;
        sleepers.add(done);
      }),
    wake: () => {
      for (const done of [...sleepers]) done();
    },
    wakeOne: () => {
      const [first] = sleepers;
      if (first) first();
      else missed = true;
    },
    wakeSleeping: () => {
      const [first] = sleepers;
      first?.();
    },
  };
}
