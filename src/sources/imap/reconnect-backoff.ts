// When to try an IMAP connection again. Exponential with jitter so a fleet of sources does not
// reconnect in step after a server restart; capped at a minute so a fixed server is noticed soon;
// and never close to zero, so a dead server cannot make the process spin.
import { exponentialMs, withJitter } from "../../scheduler/backoff.ts";

export type BackoffPolicy = {
  /** Delay ceiling before the first retry; doubles with each failed attempt. */
  baseMs: number;
  capMs: number;
  /** A connection that stayed up this long counts as healthy: the next failure starts over. */
  stableAfterMs: number;
};

export const RECONNECT_BACKOFF: BackoffPolicy = { baseMs: 1_000, capMs: 60_000, stableAfterMs: 60_000 };

/**
 * The wait before reconnect attempt `attempt` (1 = the first retry). "Equal jitter": half the
 * exponential step is fixed, half is random, so the delay lies in [step/2, step].
 */
export function reconnectDelayMs(attempt: number, random: () => number, policy: BackoffPolicy = RECONNECT_BACKOFF): number {
  return Math.round(withJitter(exponentialMs(attempt, policy.baseMs, policy.capMs), "equal", random));
}

/**
 * The attempt number after a session ended in failure. `connectedForMs` is how long the session
 * was logged in (null when it never got that far).
 */
export function attemptAfterFailure(previousAttempt: number, connectedForMs: number | null, policy: BackoffPolicy = RECONNECT_BACKOFF): number {
  if (connectedForMs !== null && connectedForMs >= policy.stableAfterMs) return 1;
  return previousAttempt + 1;
}
