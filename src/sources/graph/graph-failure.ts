// What a failed call to Microsoft means for the work that made it: each kind has one answer
// (retry later, wait for Retry-After, resync, ask for re-authorization, give up on a vanished message).
import { exponentialMs } from "../../scheduler/backoff.ts";

export type GraphFailure =
  | { kind: "reauth"; message: string }
  | { kind: "throttled"; retryAfterMs: number; message: string }
  | { kind: "not_found"; message: string }
  | { kind: "sync_state_lost"; message: string }
  | { kind: "transient"; message: string }
  | { kind: "rejected"; status: number; code: string; message: string };

export type FailureFacts = {
  /** HTTP status; -1 or undefined when no response came back (network, timeout). */
  status?: number;
  code?: string | null;
  message: string;
  retryAfter?: string | null;
  now: Date;
};

const SYNC_STATE_CODES = new Set(["syncstatenotfound", "syncstateinvalid", "resyncrequired", "invaliddeltatoken"]);

export function classifyGraphFailure(f: FailureFacts): GraphFailure {
  const status = f.status ?? -1;
  const code = (f.code ?? "").toLowerCase();
  if (code === "invalid_grant" || code === "interaction_required") return { kind: "reauth", message: f.message };
  if (status === 410 || SYNC_STATE_CODES.has(code)) return { kind: "sync_state_lost", message: f.message };
  if (status === 429 || status === 503) {
    return { kind: "throttled", retryAfterMs: retryAfterMs(f.retryAfter, f.now) ?? 30_000, message: f.message };
  }
  if (status === 404) return { kind: "not_found", message: f.message };
  if (status < 0 || status === 408 || status >= 500) return { kind: "transient", message: f.message };
  return { kind: "rejected", status, code: f.code ?? `http_${status}`, message: f.message };
}

/** Retry-After as seconds or an HTTP date; null when absent or unreadable. */
export function retryAfterMs(value: string | null | undefined, now: Date): number | null {
  if (!value) return null;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? null : Math.max(0, at - now.getTime());
}

/** Backoff for work that failed without a hint from the server: 5 s doubling, capped at 1 hour. */
export function backoffMs(attempts: number): number {
  return exponentialMs(attempts, 5_000, 3_600_000);
}
