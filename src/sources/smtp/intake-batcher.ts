// Group commit for the SMTP listener (db/group-commit.ts): the mails of concurrent DATA commands
// are stored together, one INSERT and one commit for all of them instead of one each. A failed
// write rejects every caller of its batch: their senders are answered 451 and retry.
import { createGroupCommit } from "../../db/group-commit.ts";
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

export function createIntakeBatcher(ports: IntakeBatcherPorts, limits = { maxMails: MAX_MAILS, maxBytes: MAX_BYTES }): IntakeBatcher {
  const group = createGroupCommit(ports, { maxItems: limits.maxMails, maxWeight: limits.maxBytes, weight: (mail: HandedOverMail) => mail.raw.length });
  return { store: group.submit };
}
