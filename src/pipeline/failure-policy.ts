// Which processing failures are worth retrying, and when.

// SQLSTATE classes that say "try again": connection (08), transaction rollback such as
// serialization failure or deadlock (40), insufficient resources (53), operator intervention (57).
const TRANSIENT_SQLSTATE = /^(08|40|53|57)/;
const TRANSIENT_NODE = new Set(["ECONNRESET", "ECONNREFUSED", "EPIPE", "ETIMEDOUT", "CONNECTION_CLOSED", "CONNECTION_ENDED", "CONNECT_TIMEOUT"]);

export function isTransientError(err: unknown): boolean {
  for (let e = err as { code?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    const code = typeof e.code === "string" ? e.code : "";
    if (TRANSIENT_SQLSTATE.test(code) || TRANSIENT_NODE.has(code)) return true;
  }
  return false;
}

/** 1 s, 2 s, 4 s … capped at 5 minutes, with ±20 % jitter. */
export function retryDelayMs(attempt: number, random: () => number): number {
  const base = Math.min(300_000, 1000 * 2 ** Math.max(0, attempt - 1));
  return Math.round(base * (0.8 + 0.4 * random()));
}
