// When the supervisor acts: the safety-net sync of a continuous source every 5 minutes, and the
// wait before trying again to create a watch Gmail refused (1 minute doubling, capped at an hour).
import { exponentialMs } from "../../scheduler/backoff.ts";

export const SAFETY_NET_INTERVAL_MS = 5 * 60_000;

export const isSafetyNetDue = (lastSyncAt: Date | null, now: Date, intervalMs = SAFETY_NET_INTERVAL_MS) =>
  lastSyncAt === null || now.getTime() - lastSyncAt.getTime() >= intervalMs;

export const watchRetryDelayMs = (failures: number) => exponentialMs(failures, 60_000, 60 * 60_000);
