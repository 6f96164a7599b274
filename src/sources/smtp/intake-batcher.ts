// Group commit for the SMTP listener: the mails of concurrent DATA commands are stored together,
// one INSERT and one commit for all of them instead of one each. A mail arriving while no store is
// in flight is written at once (an idle listener adds no wait); mails arriving while one is in
// flight wait for it and are then written together, in the next.
//
// Glossary
//   mail       one DATA's message with the sources it is copied to (HandedOverMail)
//   batch      the mails one write takes: everything waiting, up to MAX_MAILS and MAX_BYTES
//   outcome    what one caller is answered: how many of its copies were new (0: a duplicate)
//
// Modes
//   idle       no write in flight; the queue is empty
//   writing    one batch's write in flight; mails arriving meanwhile queue for the next batch
//
// A failed write rejects every caller of its batch (their senders are answered 451 and retry);
// since a batch is one statement, nothing of it was stored.
import type { HandedOverMail } from "../../db/inbound-store.ts";

export type IntakeBatcher = {
  /** Resolves once the mail is committed (with its outcome); rejects when its batch failed. */
  store(mail: HandedOverMail): Promise<{ created: number }>;
};

export type IntakeBatcherPorts = {
  /** Stores a batch in one statement, answering each mail's outcome in order. */
  write(mails: HandedOverMail[]): Promise<{ created: number }[]>;
  /** Called once per committed batch (the pipeline's wake); must not throw. */
  afterCommit(): void;
};

/** A batch's bounds: one INSERT's statement text stays one of a few per connection, its bytes moderate. */
export const MAX_MAILS = 64;
export const MAX_BYTES = 16 * 1024 * 1024;

type Mode = "idle" | "writing";
type Waiting = { mail: HandedOverMail; resolve(outcome: { created: number }): void; reject(err: unknown): void };

export function createIntakeBatcher(ports: IntakeBatcherPorts, limits = { maxMails: MAX_MAILS, maxBytes: MAX_BYTES }): IntakeBatcher {
  let mode: Mode = "idle";
  const queue: Waiting[] = [];

  const expectMode = (expected: Mode) => {
    if (mode !== expected) throw new Error(`intake batcher: expected mode ${expected}, found ${mode}`);
  };

  /** The next batch off the queue: at least one mail, however big, then as many as fit. */
  const takeBatch = (): Waiting[] => {
    let bytes = queue[0]!.mail.raw.length;
    let n = 1;
    while (n < queue.length && n < limits.maxMails && bytes + queue[n]!.mail.raw.length <= limits.maxBytes) bytes += queue[n++]!.mail.raw.length;
    return queue.splice(0, n);
  };

  /** Writes batches until the queue is empty, then goes idle. */
  const writeBatches = async (): Promise<void> => {
    expectMode("writing");
    while (queue.length > 0) {
      const batch = takeBatch();
      const outcomes = await ports.write(batch.map((w) => w.mail)).catch((err: unknown) => {
        for (const w of batch) w.reject(err);
        return null;
      });
      if (outcomes) {
        batch.forEach((w, i) => w.resolve(outcomes[i]!));
        ports.afterCommit();
      }
      expectMode("writing");
    }
    mode = "idle";
  };

  return {
    store: (mail) =>
      new Promise((resolve, reject) => {
        queue.push({ mail, resolve, reject });
        if (mode === "writing") return;
        expectMode("idle");
        mode = "writing";
        void writeBatches();
      }),
  };
}
