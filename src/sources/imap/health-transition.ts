// What a source's status should be after a connection attempt. The supervisor writes it (through
// setSourceStatus, which decides the webhooks) only when it changes, so a source failing every
// minute writes and logs its failure once.
import type { ImapFailure } from "./describe-imap-error.ts";

export type Health =
  | { status: "connected" }
  | { status: "connecting" }
  /** `transient`: a retry may fix it, so its source.failed waits (SOURCE_FAILED_WEBHOOK_DELAY_SECONDS). */
  | { status: "error"; error: { code: string; message: string }; transient?: boolean }
  /** A status this supervisor does not manage (e.g. needs_reauth); any change overwrites it. */
  | { status: "other" };

export const CONNECTED: Health = { status: "connected" };

/**
 * A failed attempt shows its reason at once: the guide's first troubleshooting step is the
 * connection status. Only a connection that worked and was lost (`lostConnection`) is
 * "connecting" while it reconnects: the next attempt says whether the server is really away.
 */
export function healthAfterFailure(failure: ImapFailure, lostConnection: boolean): Health {
  if (lostConnection && !failure.settingsProblem) return { status: "connecting" };
  return { status: "error", error: { code: failure.code, message: failure.message }, transient: !failure.settingsProblem };
}

export function healthChanged(last: Health | null, next: Health): boolean {
  if (last === null || last.status !== next.status) return true;
  return next.status === "error" && last.status === "error" && last.error.message !== next.error.message;
}

/** The status stored in mail_sources, read when a supervisor starts. */
export function healthFromRow(status: string, lastError: string | null): Health {
  switch (status) {
    case "connected":
    case "connecting":
      return { status };
    case "error":
      return { status: "error", error: { code: "unknown", message: lastError ?? "" } };
    default:
      return { status: "other" };
  }
}

/** What the log last said about a failing source: its status and the reason. */
export type FailureState = { status: Health["status"]; message: string };

/**
 * Whether a failed attempt is news for the log: the first failure since the source was last
 * connected, a different reason, or a change of status (a lost connection whose reconnect fails).
 * Anything else is the same failure again, worth one short line per retry at most.
 */
export function isNewFailureState(reported: FailureState | null, next: FailureState): boolean {
  return reported === null || reported.status !== next.status || reported.message !== next.message;
}
