import { describe, expect, it } from "vitest";
import type { HandedOverMail } from "../../../../src/db/inbound-store.ts";
import { createIntakeBatcher } from "../../../../src/sources/smtp/intake-batcher.ts";

const mail = (name: string, bytes = 10): HandedOverMail => ({
  sourceIds: ["source-1"],
  providerMessageId: name,
  raw: Buffer.alloc(bytes),
  envelope: { mailFrom: "", rcptTo: [], clientAddress: "127.0.0.1", helo: "", tls: false, authUser: null },
  receivedAt: new Date(0),
});

/** A write port the test answers by hand: each call waits until the test settles it. */
function handWrittenStore() {
  const calls: { names: string[]; settle(outcome: Error | { created: number }[]): void }[] = [];
  let wakes = 0;
  const write = (mails: HandedOverMail[]) =>
    new Promise<{ created: number }[]>((resolve, reject) => {
      calls.push({ names: mails.map((m) => m.providerMessageId), settle: (outcome) => (outcome instanceof Error ? reject(outcome) : resolve(outcome)) });
    });
  return { calls, write, afterCommit: () => void wakes++, wakes: () => wakes };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe("createIntakeBatcher", () => {
  it("When a mail arrives with no write in flight, then it is written at once, alone", async () => {
    const store = handWrittenStore();
    const batcher = createIntakeBatcher(store);
    const stored = batcher.store(mail("a"));
    expect(store.calls.map((c) => c.names)).toEqual([["a"]]);
    store.calls[0]!.settle([{ created: 1 }]);
    expect(await stored).toEqual({ created: 1 });
    expect(store.wakes()).toBe(1);
  });

  it("When mails arrive while a write is in flight, then the next write takes them together and each caller gets its own outcome, with one wake for the batch", async () => {
    const store = handWrittenStore();
    const batcher = createIntakeBatcher(store);
    const first = batcher.store(mail("a"));
    const waiting = [batcher.store(mail("b")), batcher.store(mail("c")), batcher.store(mail("d"))];
    expect(store.calls).toHaveLength(1);
    store.calls[0]!.settle([{ created: 1 }]);
    expect(await first).toEqual({ created: 1 });
    await turn();
    expect(store.calls.map((c) => c.names)).toEqual([["a"], ["b", "c", "d"]]);
    store.calls[1]!.settle([{ created: 1 }, { created: 0 }, { created: 1 }]);
    expect(await Promise.all(waiting)).toEqual([{ created: 1 }, { created: 0 }, { created: 1 }]);
    expect(store.wakes()).toBe(2);
  });

  it("When a write fails, then every caller of that batch is rejected with its error, nothing is woken, and mails after it are still written", async () => {
    const store = handWrittenStore();
    const batcher = createIntakeBatcher(store);
    const first = batcher.store(mail("a"));
    const failing = [batcher.store(mail("b")), batcher.store(mail("c"))].map((p) => p.then(() => "stored", (err: Error) => err.message));
    store.calls[0]!.settle([{ created: 1 }]);
    await first;
    await turn();
    const later = batcher.store(mail("d"));
    store.calls[1]!.settle(new Error("connection lost"));
    expect(await Promise.all(failing)).toEqual(["connection lost", "connection lost"]);
    await turn();
    expect(store.calls.map((c) => c.names)).toEqual([["a"], ["b", "c"], ["d"]]);
    store.calls[2]!.settle([{ created: 1 }]);
    expect(await later).toEqual({ created: 1 });
    expect(store.wakes()).toBe(2);
  });

  it("When more mails wait than a batch may hold, then they are written in several batches, by count and by bytes, a mail over the byte bound alone", async () => {
    const store = handWrittenStore();
    const batcher = createIntakeBatcher(store, { maxMails: 2, maxBytes: 100 });
    const all = [batcher.store(mail("a")), batcher.store(mail("b")), batcher.store(mail("c")), batcher.store(mail("d", 60)), batcher.store(mail("e", 60)), batcher.store(mail("f", 500))];
    for (let i = 0; i < 5; i++) {
      store.calls[i]!.settle(store.calls[i]!.names.map(() => ({ created: 1 })));
      await turn();
    }
    await Promise.all(all);
    expect(store.calls.map((c) => c.names)).toEqual([["a"], ["b", "c"], ["d"], ["e"], ["f"]]);
  });
});
