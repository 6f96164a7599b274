// Tells "the database cannot be reached" apart from "this statement is wrong": the first is
// waited out (503 to clients, a backoff in the workers), the second is a bug or bad data.

// postgres.js's own codes, and Node's for a socket that cannot connect or was cut.
const CONNECTION_CODES = new Set([
  "CONNECTION_CLOSED",
  "CONNECTION_DESTROYED",
  "CONNECTION_ENDED",
  "CONNECT_TIMEOUT",
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
]);

// SQLSTATEs of a server that is going away or not taking sessions: class 08 (connection
// exception), admin/crash shutdown (pg_terminate_backend, a fast stop), starting up or shutting
// down, too many connections, and a database that does not exist (dropped under us).
const UNAVAILABLE_SQLSTATES = new Set(["57P01", "57P02", "57P03", "53300", "3D000"]);

export function isDatabaseUnavailable(err: unknown): boolean {
  return databaseUnavailableReason(err) !== null;
}

/** A short reason ("ECONNREFUSED", "57P01 terminating connection…") when err is an unreachable database, else null. */
export function databaseUnavailableReason(err: unknown): string | null {
  for (let e: unknown = err, depth = 0; e && typeof e === "object" && depth < 6; e = (e as { cause?: unknown }).cause, depth++) {
    const { code, message } = e as { code?: unknown; message?: unknown };
    const text = typeof message === "string" ? message.split("\n")[0]!.slice(0, 200) : "";
    if (typeof code === "string" && (CONNECTION_CODES.has(code) || UNAVAILABLE_SQLSTATES.has(code) || code.startsWith("08"))) {
      return text.includes(code) ? text : `${code} ${text}`.trim();
    }
    // An AggregateError (every address of a host refused) carries its codes in `errors`.
    const nested = (e as { errors?: unknown }).errors;
    if (Array.isArray(nested) && nested.some((n) => isDatabaseUnavailable(n))) return text || "connection refused";
    // PGlite's handle once it was closed (the embedded database cannot come back without a restart).
    if (text === "PGlite is closed") return text;
  }
  return null;
}
