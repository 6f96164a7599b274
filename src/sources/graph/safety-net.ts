// The safety-net catch-up of a continuous source: every 5 minutes, whatever the notifications did.
export const SAFETY_NET_INTERVAL_MS = 5 * 60_000;


export const isContinuous = (schedule: unknown) =>
  !schedule || typeof schedule !== "object" || (schedule as { mode?: unknown }).mode === "continuous";

export function isSafetyNetDue(input: { schedule: unknown; lastSyncAt: Date | null; now: Date; intervalMs?: number }): boolean {
  if (!isContinuous(input.schedule)) return false;
  if (!input.lastSyncAt) return true;
  return input.now.getTime() - input.lastSyncAt.getTime() >= (input.intervalMs ?? SAFETY_NET_INTERVAL_MS);
}
