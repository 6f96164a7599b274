// When a push subscription (a Gmail watch or a Graph subscription) is renewed: daily for the
// week-long ones, halfway through for short ones, so a missed run or two never lets one lapse.
// Each subscription comes due a little early, by a fraction of its interval fixed by its id, so a
// thousand sources created in one afternoon do not all renew in the same minute ever after.
import { exponentialMs } from "../scheduler/backoff.ts";
import { hash32 } from "../scheduler/shards.ts";

export const RENEW_AT_LEAST_EVERY_MS = 24 * 60 * 60_000;
/** Up to this fraction of the interval earlier, by id. */
export const RENEWAL_SPREAD = 0.25;

export type RenewalFacts = { id?: string; expiresAt: Date | null; lastRenewedAt: Date | null; createdAt: Date };

/** A number in [0, 1) fixed by the id: where in the spread this subscription falls. */
const spreadOf = (id: string | undefined) => (id === undefined ? 0 : hash32(id) / 2 ** 32);

export function renewalDueAt(s: RenewalFacts): Date {
  if (!s.expiresAt) return s.createdAt;
  const start = (s.lastRenewedAt ?? s.createdAt).getTime();
  const lifetime = Math.max(0, s.expiresAt.getTime() - start);
  const interval = Math.min(lifetime / 2, RENEW_AT_LEAST_EVERY_MS);
  return new Date(start + interval * (1 - RENEWAL_SPREAD * spreadOf(s.id)));
}

export const isRenewalDue = (s: RenewalFacts, now: Date) => now.getTime() >= renewalDueAt(s).getTime();

export const hasExpired = (s: { expiresAt: Date | null }, now: Date) =>
  s.expiresAt !== null && s.expiresAt.getTime() <= now.getTime();

/** After a failed renewal the scheduler waits before the next try: 1 minute doubling, capped at 30. */
export function renewalRetryDelayMs(consecutiveFailures: number): number {
  return exponentialMs(consecutiveFailures, 60_000, 30 * 60_000);
}
