// Group commit: the writes of concurrent callers go to the database together, one statement and
// one commit for all of them instead of one each. A write submitted while none is in flight goes
// at once (an idle writer adds no wait); writes submitted while one is in flight wait for it and
// then go together, in the next. So batches grow only as far as the load makes callers overlap.
//
// Glossary
//   item       what one caller submits (a mail to store, a sync to finish)
//   batch      the items one write takes: everything waiting, up to maxItems and maxWeight
//   outcome    what one caller is answered, from the write's answer for its item
//
// Modes
//   idle       no write in flight; the queue is empty
//   writing    one batch's write in flight; items submitted meanwhile queue for the next batch
//
// A failed write rejects every caller of its batch; since a batch is one statement, nothing of it
// was written.

export type GroupCommit<Item, Outcome> = {
  /** Resolves once the item is committed, with its outcome; rejects when its batch failed. */
  submit(item: Item): Promise<Outcome>;
};

export type GroupCommitPorts<Item, Outcome> = {
  /** Writes a batch in one statement, answering each item's outcome in order. */
  write(items: Item[]): Promise<Outcome[]>;
  /** Called once per committed batch (a wake); must not throw. */
  afterCommit?(): void;
};

export type GroupCommitLimits<Item> = {
  maxItems: number;
  /** With `weight`: a batch holds items up to this much weight (bytes), but always at least one. */
  maxWeight?: number;
  weight?(item: Item): number;
};

type Mode = "idle" | "writing";
type Waiting<Item, Outcome> = { item: Item; resolve(outcome: Outcome): void; reject(err: unknown): void };

export function createGroupCommit<Item, Outcome>(ports: GroupCommitPorts<Item, Outcome>, limits: GroupCommitLimits<NoInfer<Item>>): GroupCommit<Item, Outcome> {
  let mode: Mode = "idle";
  const queue: Waiting<Item, Outcome>[] = [];
  const weight = limits.weight ?? (() => 0);
  const maxWeight = limits.maxWeight ?? Infinity;

  const expectMode = (expected: Mode) => {
    if (mode !== expected) throw new Error(`group commit: expected mode ${expected}, found ${mode}`);
  };

  /** The next batch off the queue: at least one item, however heavy, then as many as fit. */
  const takeBatch = (): Waiting<Item, Outcome>[] => {
    let total = weight(queue[0]!.item);
    let n = 1;
    while (n < queue.length && n < limits.maxItems && total + weight(queue[n]!.item) <= maxWeight) total += weight(queue[n++]!.item);
    return queue.splice(0, n);
  };

  /** Writes batches until the queue is empty, then goes idle. */
  const writeBatches = async (): Promise<void> => {
    expectMode("writing");
    while (queue.length > 0) {
      const batch = takeBatch();
      const outcomes = await ports.write(batch.map((w) => w.item)).catch((err: unknown) => {
        for (const w of batch) w.reject(err);
        return null;
      });
      if (outcomes) {
        batch.forEach((w, i) => w.resolve(outcomes[i]!));
        ports.afterCommit?.();
      }
      expectMode("writing");
    }
    mode = "idle";
  };

  return {
    submit: (item) =>
      new Promise((resolve, reject) => {
        queue.push({ item, resolve, reject });
        if (mode === "writing") return;
        expectMode("idle");
        mode = "writing";
        void writeBatches();
      }),
  };
}
