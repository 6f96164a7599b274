// The one backoff every retry in mailgate uses: a delay that doubles with each failed attempt up
// to a ceiling, spread by jitter so that many sources or workers that failed together do not all
// try again in the same instant.

/** Attempt 1 waits `firstMs`; each further attempt doubles it, up to `capMs`. */
export function exponentialMs(attempt: number, firstMs: number, capMs: number): number {
  return Math.min(capMs, firstMs * 2 ** Math.max(0, attempt - 1));
}

/**
 * `equal`: half the delay is fixed and half is random, so it lies in [ms/2, ms] (for retries
 * against someone else's server); `{ spread }`: the delay moves by up to ±spread of itself.
 */
export type Jitter = "equal" | { spread: number };

export function withJitter(ms: number, jitter: Jitter, random: () => number = Math.random): number {
  const r = Math.min(Math.max(random(), 0), 1);
  return jitter === "equal" ? ms / 2 + (ms / 2) * r : ms * (1 - jitter.spread + 2 * jitter.spread * r);
}
