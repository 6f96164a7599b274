// How long a failed sync waits before the next try: Google's advice for 429 and 5xx is truncated
// exponential backoff with jitter; a Retry-After from Google wins when it is longer.
export const SYNC_BACKOFF_CAP_MS = 5 * 60_000;

export function syncRetryDelayMs(attempt: number, random: () => number, retryAfterMs?: number): number {
  const base = Math.min(SYNC_BACKOFF_CAP_MS, 1000 * 2 ** Math.max(0, Math.min(attempt - 1, 12)));
  const jittered = base / 2 + random() * (base / 2);
  return Math.round(Math.max(jittered, Math.min(retryAfterMs ?? 0, SYNC_BACKOFF_CAP_MS)));
}
