// After a history 404 (the stored historyId is older than Gmail keeps), mailgate lists the inbox
// from the last moment it knows it was caught up, minus a margin for mail that arrived while that
// sync was finishing, and never from before the source's first connection (connectedAt).
// The rule: the window reaches back to the last catch-up, so after a re-authorization the mail that
// arrived while the source needed it is ticketed, but never before the first connection, so mail
// already in the inbox then never is.
export const RESYNC_MARGIN_MS = 60 * 60_000;

export type ResyncFacts = { lastSyncAt: Date | null; lastProcessedAt: Date | null; connectedAt: Date };

export function resyncSince(facts: ResyncFacts, now: Date): Date {
  const known = [facts.lastSyncAt, facts.lastProcessedAt].filter((d): d is Date => d !== null).map((d) => d.getTime());
  const caughtUpAt = known.length > 0 ? Math.min(...known) : now.getTime();
  return new Date(Math.max(caughtUpAt - RESYNC_MARGIN_MS, facts.connectedAt.getTime()));
}

/** Gmail's search syntax: `after:` takes epoch seconds. */
export const resyncQuery = (since: Date) => `in:inbox after:${Math.floor(since.getTime() / 1000)}`;
