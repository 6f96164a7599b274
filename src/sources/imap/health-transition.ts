// What a source's status should be after a connection attempt. The supervisor writes it (through
// setSourceStatus, which emits source.failed / source.recovered on transitions) only when it
// changes, so a source failing every minute writes, logs and announces its failure once.
import type { ImapFailure } from "./describe-imap-error.ts";

/** A server that stays unreachable this long marks the source failed; settings problems do at once. */
export const FAILED_AFTER_MS = 5 * 60_000;

export type Health =
  | { status: "connected" }
  | { status: "connecting" }
  | { status: "error"; error: { code: string; message: string } }
  /** A status this supervisor does not manage (e.g. needs_reauth); any change overwrites it. */
  | { status: "other" };

export const CONNECTED: Health = { status: "connected" };

/** `last`: the status as last written (or read at start). Once failed, a source stays failed until it connects. */
export function healthAfterFailure(last: Health | null, failure: ImapFailure, failingForMs: number): Health {
  const failed = failure.settingsProblem || failingForMs >= FAILED_AFTER_MS || last?.status === "error";
  return failed ? { status: "error", error: { code: failure.code, message: failure.message } } : { status: "connecting" };
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
 * connected, a different reason, or a change of status (connecting → error after FAILED_AFTER_MS).
 * Anything else is the same failure again, worth one short line per retry at most.
 */
export function isNewFailureState(reported: FailureState | null, next: FailureState): boolean {
  return reported === null || reported.status !== next.status || reported.message !== next.message;
}
