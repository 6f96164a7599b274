// When to try a delivery again, and what an answer means. Pure: the clock and the random source
// are arguments, so the dispatcher and the tests decide time.
//
// Glossary
//   schedule   delays in seconds; schedule[0] is the wait before the first attempt, schedule[n]
//              the wait after the n-th failure; a failure with no entry left exhausts the delivery
//   jitter     ±10% of the delay, so endpoints that failed together do not retry together
//   retry-after a receiver's 429/503 may ask for a longer wait, which we honour up to a day

export type NextAttempt = { kind: "retry"; at: Date } | { kind: "exhausted" };
export type Verdict = "success" | "retry" | "disable_endpoint";

const JITTER = 0.1;
// A receiver may not park a delivery for longer than this, whatever its Retry-After says.
const RETRY_AFTER_CAP_MS = 24 * 60 * 60 * 1000;

export function nextAttempt(input: {
  attempts: number; // attempts done so far, this failure included
  scheduleSeconds: number[];
  now: Date;
  retryAfter?: string | null;
  random: () => number;
}): NextAttempt {
  if (!Number.isInteger(input.attempts) || input.attempts < 0) {
    throw new RangeError(`attempts must be a whole number ≥ 0, got ${input.attempts}`);
  }
  const seconds = input.scheduleSeconds[input.attempts];
  if (seconds === undefined) return { kind: "exhausted" };
  const scheduledMs = Math.max(0, seconds) * 1000;
  const jittered = scheduledMs * (1 + (input.random() * 2 - 1) * JITTER);
  const askedMs = input.retryAfter == null ? null : parseRetryAfter(input.retryAfter, input.now);
  const delayMs = askedMs !== null && askedMs > scheduledMs ? Math.min(askedMs, RETRY_AFTER_CAP_MS) : jittered;
  return { kind: "retry", at: new Date(input.now.getTime() + Math.round(delayMs)) };
}

/**
 * Milliseconds the receiver asked us to wait, or null when the value is neither delay-seconds nor
 * an HTTP date (RFC 9110 §10.2.3). A date in the past asks for no wait.
 */
export function parseRetryAfter(value: string, now: Date): number | null {
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  // Date.parse reads bare numbers ("5", "1.5") as years; an HTTP date always has a month name.
  if (!/[a-z]/i.test(trimmed)) return null;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? null : Math.max(0, at - now.getTime());
}

/**
 * 2xx is success; 410 Gone means the receiver wants no more events; everything else (other
 * statuses, redirects, which we do not follow, timeouts and connection errors, which come as a
 * null status) is worth another try. The error text does not change the verdict: a status that
 * arrived is the receiver's answer even if the body was cut short.
 */
export function classifyResponse(status: number | null, _error?: string): Verdict {
  if (status === null) return "retry";
  if (status >= 200 && status < 300) return "success";
  if (status === 410) return "disable_endpoint";
  return "retry";
}

/** True once an endpoint has failed every delivery for `days` (failingSince resets on a success). */
export function shouldDisableForFailing(failingSince: Date | null, now: Date, days: number): boolean {
  if (failingSince === null) return false;
  return now.getTime() - failingSince.getTime() >= days * 24 * 60 * 60 * 1000;
}
