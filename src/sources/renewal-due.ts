// When a push subscription (a Gmail watch or a Graph subscription) is renewed: daily for the
// week-long ones, halfway through for short ones, so a missed run or two never lets one lapse.
import { exponentialMs } from "../scheduler/backoff.ts";

export const RENEW_AT_LEAST_EVERY_MS = 24 * 60 * 60_000;

export type RenewalFacts = { expiresAt: Date | null; lastRenewedAt: Date | null; createdAt: Date };

export function renewalDueAt(s: RenewalFacts): Date {
  if (!s.expiresAt) return s.createdAt;
  const start = (s.lastRenewedAt ?? s.createdAt).getTime();
  const lifetime = Math.max(0, s.expiresAt.getTime() - start);
  return new Date(start + Math.min(lifetime / 2, RENEW_AT_LEAST_EVERY_MS));
}

export const isRenewalDue = (s: RenewalFacts, now: Date) => now.getTime() >= renewalDueAt(s).getTime();

export const hasExpired = (s: { expiresAt: Date | null }, now: Date) =>
  s.expiresAt !== null && s.expiresAt.getTime() <= now.getTime();

/** After a failed renewal the scheduler waits before the next try: 1 minute doubling, capped at 30. */
export function renewalRetryDelayMs(consecutiveFailures: number): number {
  return exponentialMs(consecutiveFailures, 60_000, 30 * 60_000);
}
