// Which webhook a change of a source's status sends. The status, lastError and the error log show
// a failure at once; source.failed waits until a failure a retry may fix (a server that is down, a
// timeout) has lasted SOURCE_FAILED_WEBHOOK_DELAY_SECONDS, so a restarting server pages nobody.
// A failing streak (from the first failure until the source connects again) is announced once,
// and source.recovered follows only a streak that was announced.
import type { SourceStatus } from "./source-config.ts";

export type AnnouncementEvent = "source.failed" | "source.needs_reauth" | "source.recovered";

/** The source as stored before the change. */
export type StreakState = { status: string; failingSince: Date | null; failureAnnouncedAt: Date | null };

/** `transient`: a retry may fix the failure, so its announcement waits for the delay. */
export type StatusChangeKind = { status: Exclude<SourceStatus, "disabled">; transient?: boolean };

export function announcementFor(before: StreakState, change: StatusChangeKind, now: Date, delayMs: number): AnnouncementEvent | null {
  if (before.status === "disabled") return null;
  switch (change.status) {
    case "needs_reauth":
      return before.status === "needs_reauth" ? null : "source.needs_reauth";
    case "error":
      if (before.failureAnnouncedAt !== null) return null;
      return !change.transient || isFailureDue(before.failingSince ?? now, now, delayMs) ? "source.failed" : null;
    case "connected":
      return before.status !== "connected" && before.failureAnnouncedAt !== null ? "source.recovered" : null;
    case "connecting":
      return null;
  }
}

/** Whether a source failing since `failingSince` has failed long enough to announce. */
export const isFailureDue = (failingSince: Date, now: Date, delayMs: number): boolean => now.getTime() - failingSince.getTime() >= delayMs;
