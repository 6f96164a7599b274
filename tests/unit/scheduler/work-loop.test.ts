import { EventEmitter } from "node:events";
import pino from "pino";
import { describe, expect, it } from "vitest";
import type { Database } from "../../../src/db/client.ts";
import { watchDatabaseOutages } from "../../../src/db/database-outage.ts";
import { startWorkLoop, type WorkLoopOptions } from "../../../src/scheduler/work-loop.ts";

// Only the wake channel of a database is used by the loop: an in-process one, as on PGlite.
function wakeChannel() {
  const signals = new EventEmitter();
  const database = {
    onWake: (_channel: string, listener: () => void) => {
      signals.on("wake", listener);
      return () => void signals.off("wake", listener);
    },
  } as unknown as Database;
  return { database, wake: () => signals.emit("wake") };
}

/** A loop of the pool under test, on the "inbound" channel, logging nothing. */
function startTestLoop(database: Database, opts: Pick<WorkLoopOptions, "concurrency" | "pollMs" | "step">) {
  const databaseOutage = watchDatabaseOutages({ log: pino({ level: "silent" }), ping: async () => {} });
  return startWorkLoop({ name: "test", database, databaseOutage, channel: "inbound", log: pino({ level: "silent" }), ...opts });
}

describe("startWorkLoop", () => {
  it("When work is signalled while the only loop is busy finding none, then it looks again at once instead of sleeping a poll interval", async () => {
    const { database, wake } = wakeChannel();
    const calls: number[] = [];
    let queued = 0;
    const started = performance.now();
    const loop = startTestLoop(database, {
      concurrency: 1,
      pollMs: 60_000,
      step: async () => {
        calls.push(performance.now() - started);
        if (calls.length === 1) {
          // The claim came up empty; the message lands and is signalled before the loop sleeps.
          queued = 1;
          wake();
          return false;
        }
        if (queued > 0) {
          queued--;
          return true;
        }
        return false;
      },
    });
    await expect.poll(() => queued, { timeout: 2_000 }).toBe(0);
    await loop.stop();
    expect(calls.length).toBeGreaterThanOrEqual(2);
  });

  it("When a loop sleeps and work is signalled, then one loop wakes for it", async () => {
    const { database, wake } = wakeChannel();
    let steps = 0;
    const loop = startTestLoop(database, { concurrency: 2, pollMs: 60_000, step: async () => (steps++, false) });
    await expect.poll(() => steps).toBe(2);
    wake();
    await expect.poll(() => steps).toBe(3);
    await loop.stop();
  });

  it("When a loop's step finds more work waiting than it took, then the next loop starts on it while the first is still busy", async () => {
    const { database, wake } = wakeChannel();
    let steps = 0;
    let thirdBusy = false;
    let joinedWhileBusy = false;
    let release = () => {};
    const busy = new Promise<void>((r) => (release = r));
    const loop = startTestLoop(database, {
      concurrency: 2,
      pollMs: 60_000,
      step: async (more) => {
        steps++;
        if (steps === 4) joinedWhileBusy = thirdBusy;
        if (steps === 3) {
          // A full claim: more is waiting. This step then takes its time.
          thirdBusy = true;
          try {
            more();
            await busy;
            return true;
          } finally {
            thirdBusy = false;
          }
        }
        return false;
      },
    });
    await expect.poll(() => steps).toBe(2); // both loops found nothing and sleep
    wake();
    await expect.poll(() => steps).toBe(4);
    expect(joinedWhileBusy).toBe(true);
    release();
    await loop.stop();
  });

  it("When a signalled step takes all the work there was, then no loop claims again until the next signal", async () => {
    const { database, wake } = wakeChannel();
    let steps = 0;
    let queued = 0;
    const loop = startTestLoop(database, {
      concurrency: 2,
      pollMs: 60_000,
      step: async () => {
        steps++;
        queued = 0; // a claim that came back short: it took everything that was due
      },
    });
    await expect.poll(() => steps).toBe(2); // each loop looks once as it starts
    queued = 1;
    wake();
    await expect.poll(() => queued).toBe(0);
    await new Promise((r) => setTimeout(r, 100));
    expect(steps).toBe(3); // one claim for one message, no empty claims after it
    wake();
    await expect.poll(() => steps).toBe(4);
    await loop.stop();
  });

  it("When a step says more is waiting, then its own loop claims again once it is done", async () => {
    const { database } = wakeChannel();
    let queued = 5;
    let steps = 0;
    const loop = startTestLoop(database, {
      concurrency: 1,
      pollMs: 60_000,
      step: async (more) => {
        steps++;
        if (queued === 0) return;
        queued--;
        if (queued > 0) more(); // a full claim of one: the rest waits
      },
    });
    await expect.poll(() => queued, { timeout: 1_000 }).toBe(0);
    await new Promise((r) => setTimeout(r, 100));
    expect(steps).toBe(5);
    await loop.stop();
  });

  it("When four idle loops wait for work, then the pool polls once per interval, not once per loop", async () => {
    const { database } = wakeChannel();
    let steps = 0;
    const loop = startTestLoop(database, { concurrency: 4, pollMs: 100, step: async () => (steps++, false) });
    await new Promise((r) => setTimeout(r, 50));
    const afterStart = steps; // each loop looks once as it starts
    await new Promise((r) => setTimeout(r, 1_000));
    await loop.stop();
    const polls = steps - afterStart;
    expect(afterStart).toBe(4);
    expect(polls).toBeGreaterThanOrEqual(8);
    expect(polls).toBeLessThanOrEqual(11);
  });

  it("When one loop is busy for a long while, then the others still poll for due work", async () => {
    const { database } = wakeChannel();
    let due = false;
    let found = false;
    let first = true;
    const loop = startTestLoop(database, {
      concurrency: 2,
      pollMs: 50,
      step: async () => {
        if (first) {
          first = false;
          await new Promise((r) => setTimeout(r, 2_000)); // a long fetch
          return true;
        }
        if (due) {
          due = false;
          found = true;
          return true;
        }
        return false;
      },
    });
    await new Promise((r) => setTimeout(r, 200));
    due = true; // a retry comes due; nobody signals it
    await expect.poll(() => found, { timeout: 1_000 }).toBe(true);
    await loop.stop();
  });
});

