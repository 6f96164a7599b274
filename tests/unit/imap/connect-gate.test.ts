// The pace of opening IMAP connections: never more than `concurrency` at once, never more than
// `perSecond` begun per second, and a stopped supervisor leaves the queue.
import { describe, expect, it } from "vitest";
import { createConnectGate } from "../../../src/sources/imap/connect-gate.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("IMAP connect gate", () => {
  it("When 12 connects queue behind a gate of 3 at once, then no more than 3 are ever in progress", async () => {
    const gate = createConnectGate({ concurrency: 3, perSecond: 10_000 });
    let active = 0;
    let most = 0;
    await Promise.all(
      Array.from({ length: 12 }, async () => {
        const leave = await gate.enter(new AbortController().signal);
        most = Math.max(most, ++active);
        await sleep(10);
        active--;
        leave();
      }),
    );
    expect(most).toBe(3);
  });

  it("When 11 connects start at once behind 50 per second, then the last begins about 200 ms after the first", async () => {
    const gate = createConnectGate({ concurrency: 100, perSecond: 50 });
    const started: number[] = [];
    const t0 = Date.now();
    await Promise.all(
      Array.from({ length: 11 }, async () => {
        const leave = await gate.enter(new AbortController().signal);
        started.push(Date.now() - t0);
        leave();
      }),
    );
    expect(started[0]).toBeLessThan(15);
    expect(started[10]).toBeGreaterThanOrEqual(195);
    expect(started[10]).toBeLessThan(1_000);
    for (let i = 1; i < started.length; i++) expect(started[i]! - started[i - 1]!).toBeGreaterThanOrEqual(15);
  });

  it("When a waiting supervisor is stopped, then its wait ends with the abort and the others still get their turn", async () => {
    const gate = createConnectGate({ concurrency: 1, perSecond: 10_000 });
    const first = await gate.enter(new AbortController().signal);
    const stopping = new AbortController();
    const stopped = gate.enter(stopping.signal);
    const next = gate.enter(new AbortController().signal);
    stopping.abort(new Error("stopped"));
    await expect(stopped).rejects.toThrow("stopped");
    first();
    first(); // leaving twice frees one turn only
    const leave = await next;
    leave();
  });
});
