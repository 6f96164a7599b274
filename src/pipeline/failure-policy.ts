// Which processing failures are worth retrying, and when.
import { isDatabaseUnavailable } from "../db/database-unavailable.ts";
import { pgErrorOf } from "../db/pg-error.ts";
import { exponentialMs, withJitter } from "../scheduler/backoff.ts";

// Besides an unreachable database, SQLSTATE classes that say "try again": transaction rollback such
// as serialization failure or deadlock (40), insufficient resources (53), operator intervention (57).
const TRANSIENT_SQLSTATE = /^(40|53|57)/;

export function isTransientError(err: unknown): boolean {
  if (isDatabaseUnavailable(err)) return true;
  const code = pgErrorOf(err)?.code;
  return code !== undefined && TRANSIENT_SQLSTATE.test(code);
}

/** 1 s, 2 s, 4 s … capped at 5 minutes, with ±20 % jitter. */
export function retryDelayMs(attempt: number, random: () => number): number {
  return Math.round(withJitter(exponentialMs(attempt, 1000, 300_000), { spread: 0.2 }, random));
}
