// Which messages a history.list answer asks mailgate to fetch: every added message, once, in
// order, except drafts and the mailbox's own sent mail.
import type { gmail_v1 } from "googleapis";

const SKIPPED_LABELS = new Set(["DRAFT", "SENT"]);

export const isSkippedByLabels = (labelIds: readonly string[] | null | undefined) =>
  (labelIds ?? []).some((label) => SKIPPED_LABELS.has(label));

export function messagesToFetch(records: readonly gmail_v1.Schema$History[]): string[] {
  const seen = new Set<string>();
  const ids: string[] = [];
  for (const record of records) {
    for (const added of record.messagesAdded ?? []) {
      const id = added.message?.id;
      if (!id || seen.has(id) || isSkippedByLabels(added.message?.labelIds)) continue;
      seen.add(id);
      ids.push(id);
    }
  }
  return ids;
}
