// Bounds how fast one instance opens IMAP connections: at most `concurrency` connects (TCP, TLS,
// login, SELECT) in progress and `perSecond` begun per second. A thousand mailboxes at start, or
// after their server restarted, then reach the server (and our own CPU) as a queue, not a storm.
// Reconnect backoff adds jitter before a supervisor queues; the gate keeps the pace.

export type ConnectGateSettings = { concurrency: number; perSecond: number };

export type ConnectGate = {
  /** Waits for a turn; resolves with the function that ends it. Rejects when `signal` aborts first. */
  enter(signal: AbortSignal): Promise<() => void>;
};

type Waiter = { resolve: (leave: () => void) => void };

export function createConnectGate(settings: ConnectGateSettings, now: () => number = Date.now): ConnectGate {
  const spacingMs = 1000 / settings.perSecond;
  const queue: Waiter[] = [];
  let active = 0;
  let nextStartAt = 0;
  let timer: NodeJS.Timeout | null = null;

  const pump = () => {
    while (queue.length > 0 && active < settings.concurrency) {
      const waitMs = nextStartAt - now();
      if (waitMs > 0) {
        timer ??= setTimeout(() => {
          timer = null;
          pump();
        }, waitMs);
        return;
      }
      const waiter = queue.shift()!;
      active++;
      nextStartAt = Math.max(nextStartAt, now()) + spacingMs;
      let left = false;
      waiter.resolve(() => {
        if (left) return;
        left = true;
        active--;
        pump();
      });
    }
  };

  return {
    enter: (signal) =>
      new Promise((resolve, reject) => {
        if (signal.aborted) return reject(signal.reason);
        const waiter: Waiter = {
          resolve: (leave) => {
            signal.removeEventListener("abort", onAbort);
            resolve(leave);
          },
        };
        const onAbort = () => {
          const i = queue.indexOf(waiter);
          if (i >= 0) queue.splice(i, 1);
          reject(signal.reason);
        };
        signal.addEventListener("abort", onAbort, { once: true });
        queue.push(waiter);
        pump();
      }),
  };
}
