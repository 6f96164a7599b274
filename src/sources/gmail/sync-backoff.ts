// How long a failed sync waits before the next try: Google's advice for 429 and 5xx is truncated
// exponential backoff with jitter; a Retry-After from Google wins when it is longer.
import { exponentialMs, withJitter } from "../../scheduler/backoff.ts";

export const SYNC_BACKOFF_CAP_MS = 5 * 60_000;

export function syncRetryDelayMs(attempt: number, random: () => number, retryAfterMs?: number): number {
  const jittered = withJitter(exponentialMs(attempt, 1000, SYNC_BACKOFF_CAP_MS), "equal", random);
  return Math.round(Math.max(jittered, Math.min(retryAfterMs ?? 0, SYNC_BACKOFF_CAP_MS)));
}
