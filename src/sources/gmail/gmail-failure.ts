// What a failed call to Google means for mailgate, as a value: the sync, the watch and Test
// Connection each decide what to do with it. Works on the errors gaxios throws (HTTP status,
// Google's JSON error body, or the OAuth token endpoint's {error, error_description}).
export type GmailFailure =
  | { kind: "reauth"; code: "needs_reauth"; message: string }
  | { kind: "rate_limited"; code: "rate_limited"; message: string; retryAfterMs?: number }
  | { kind: "transient"; code: "unavailable"; message: string }
  | { kind: "not_found"; code: "not_found"; message: string }
  | { kind: "forbidden"; code: "forbidden"; message: string; reason?: string }
  | { kind: "invalid"; code: "invalid_request"; message: string }
  | { kind: "other"; code: "gmail_error"; message: string };

type ErrorLike = {
  message?: unknown;
  code?: unknown;
  status?: unknown;
  response?: { status?: unknown; data?: unknown; headers?: { get?(name: string): string | null } | Record<string, unknown> };
};

const NETWORK_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "ENOTFOUND", "EAI_AGAIN", "UND_ERR_SOCKET"]);
const RATE_REASONS = new Set(["rateLimitExceeded", "userRateLimitExceeded", "quotaExceeded", "backendError"]);

export const REAUTH_MESSAGE =
  "Google refused the stored authorization (invalid_grant): the grant was revoked, expired or the password changed. Click Authorize on this source to sign in to Google again.";

export function classifyGmailError(err: unknown): GmailFailure {
  const e = (typeof err === "object" && err !== null ? err : { message: String(err) }) as ErrorLike;
  const status = Number(e.response?.status ?? e.status ?? NaN);
  const data = e.response?.data as Record<string, unknown> | undefined;
  const oauthError = typeof data?.error === "string" ? data.error : undefined;
  const apiError = typeof data?.error === "object" && data.error !== null ? (data.error as Record<string, unknown>) : undefined;
  const reason = firstReason(apiError);
  const text = String(apiError?.message ?? data?.error_description ?? e.message ?? "unknown error");

  if (oauthError === "invalid_grant" || e.message === "invalid_grant" || String(e.message).includes("No refresh token")) {
    return { kind: "reauth", code: "needs_reauth", message: REAUTH_MESSAGE };
  }
  if (status === 401) {
    return { kind: "reauth", code: "needs_reauth", message: `Google answered 401 (${text}) even after a token refresh. ${REAUTH_MESSAGE}` };
  }
  if (status === 429 || (status === 403 && reason !== undefined && RATE_REASONS.has(reason))) {
    return { kind: "rate_limited", code: "rate_limited", message: `Gmail is rate limiting this mailbox (${text}); mailgate backs off and retries.`, retryAfterMs: retryAfterMs(e) };
  }
  if (status >= 500 || (typeof e.code === "string" && NETWORK_CODES.has(e.code)) || (Number.isNaN(status) && /fetch failed|socket|network/i.test(text))) {
    return { kind: "transient", code: "unavailable", message: `Gmail could not be reached (${Number.isNaN(status) ? text : `HTTP ${status}: ${text}`}); mailgate retries.` };
  }
  if (status === 404) return { kind: "not_found", code: "not_found", message: text };
  if (status === 403) return { kind: "forbidden", code: "forbidden", message: forbiddenMessage(text, reason), ...(reason ? { reason } : {}) };
  if (status === 400) return { kind: "invalid", code: "invalid_request", message: text };
  return { kind: "other", code: "gmail_error", message: Number.isNaN(status) ? text : `HTTP ${status}: ${text}` };
}

function firstReason(apiError: Record<string, unknown> | undefined): string | undefined {
  const errors = apiError?.errors;
  if (Array.isArray(errors) && errors.length > 0 && typeof errors[0]?.reason === "string") return errors[0].reason as string;
  const details = apiError?.details;
  if (Array.isArray(details)) {
    for (const d of details) if (typeof d?.reason === "string") return d.reason as string;
  }
  return undefined;
}

function forbiddenMessage(text: string, reason: string | undefined): string {
  if (reason === "accessNotConfigured" || /has not been used|is disabled/i.test(text)) {
    return `The Gmail API is not enabled for this OAuth client's Google Cloud project: enable it under APIs & Services → Library → Gmail API. (${text})`;
  }
  if (reason === "insufficientPermissions" || /insufficient/i.test(text)) {
    return `The authorization lacks the Gmail scopes mailgate needs (gmail.readonly, gmail.modify): add them to the OAuth consent screen and click Authorize again. (${text})`;
  }
  return `Gmail refused the request: ${text}`;
}

function retryAfterMs(e: ErrorLike): number | undefined {
  const headers = e.response?.headers;
  const raw = headers && typeof (headers as { get?: unknown }).get === "function"
    ? (headers as { get(name: string): string | null }).get("retry-after")
    : ((headers as Record<string, unknown> | undefined)?.["retry-after"] as string | undefined);
  if (!raw) return undefined;
  const seconds = Number(raw);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : undefined;
}
