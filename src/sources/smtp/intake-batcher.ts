// Group commit for the SMTP listener (db/group-commit.ts): the mails of concurrent DATA commands
// are stored together, one INSERT and one commit for all of them instead of one each. A failed
// write rejects every caller of its batch: their senders are answered 451 and retry.
import { createGroupCommit } from "../../db/group-commit.ts";
import { INTAKE_BATCH, type HandedOverMail } from "../../db/inbound-store.ts";

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

export function createIntakeBatcher(ports: IntakeBatcherPorts, limits = { maxMails: INTAKE_BATCH.maxItems, maxBytes: INTAKE_BATCH.maxWeight }): IntakeBatcher {
  const group = createGroupCommit(ports, { maxItems: limits.maxMails, maxWeight: limits.maxBytes, weight: INTAKE_BATCH.weight });
  return { store: group.submit };
}
