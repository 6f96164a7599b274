// Whether a recorded sync request still needs a history.list: a notification whose historyId the
// stored cursor has already passed is folded into the sync that passed it.
export type SyncPayload = { historyId?: string | null; force?: boolean };

export function needsSync(payload: SyncPayload, cursorHistoryId: string | null): boolean {
  if (payload.force || !payload.historyId || !cursorHistoryId) return true;
  return BigInt(payload.historyId) > BigInt(cursorHistoryId);
}

/** The Gmail cursor as stored in mail_sources.cursor, or null when there is none (yet). */
export function historyIdOf(cursor: unknown): string | null {
  if (typeof cursor !== "object" || cursor === null) return null;
  const id = (cursor as { historyId?: unknown }).historyId;
  return typeof id === "string" && /^[0-9]+$/.test(id) ? id : null;
}
