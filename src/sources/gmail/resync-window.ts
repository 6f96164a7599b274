// After a history 404 (the stored historyId is older than Gmail keeps), mailgate lists the inbox
// from the last moment it knows it was caught up, minus a margin for mail that arrived while that
// sync was finishing. It never reaches back before the source was connected: both facts it uses
// are only set once it was.
export const RESYNC_MARGIN_MS = 60 * 60_000;

export type ResyncFacts = { lastSyncAt: Date | null; lastProcessedAt: Date | null };

export function resyncSince(facts: ResyncFacts, now: Date): Date {
  const known = [facts.lastSyncAt, facts.lastProcessedAt].filter((d): d is Date => d !== null).map((d) => d.getTime());
  const caughtUpAt = known.length > 0 ? Math.min(...known) : now.getTime();
  return new Date(caughtUpAt - RESYNC_MARGIN_MS);
}

/** Gmail's search syntax: `after:` takes epoch seconds. */
export const resyncQuery = (since: Date) => `in:inbox after:${Math.floor(since.getTime() / 1000)}`;
