// A sleep that something else can cut short: the supervisor waits for the next trigger (EXISTS,
// Process Now, stop) or a deadline, whichever comes first.

export type WakeableSleep = {
  /** Resolves after `ms` (never, for Infinity) or at the next wake(). */
  sleep(ms: number): Promise<void>;
  wake(): void;
};

export function createWakeableSleep(): WakeableSleep {
  const sleepers = new Set<() => void>();
  return {
    sleep: (ms) =>
      new Promise<void>((resolve) => {
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
  };
}
