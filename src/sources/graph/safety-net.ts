// Which Graph sources collect mail by themselves, and when their safety-net catch-up is due.
// Continuous and scheduled sources both collect in real time (a scheduled source's mail then waits,
// stored, for its processing window); a manual source reads its mailbox only on Process Now.
export const SAFETY_NET_INTERVAL_MS = 5 * 60_000;

export const collectsContinuously = (schedule: unknown) =>
  !schedule || typeof schedule !== "object" || (schedule as { mode?: unknown }).mode !== "manual";

export function isSafetyNetDue(input: { schedule: unknown; lastSyncAt: Date | null; now: Date; intervalMs?: number }): boolean {
  if (!collectsContinuously(input.schedule)) return false;
  if (!input.lastSyncAt) return true;
  return input.now.getTime() - input.lastSyncAt.getTime() >= (input.intervalMs ?? SAFETY_NET_INTERVAL_MS);
}
