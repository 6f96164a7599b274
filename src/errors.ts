// One error family for everything the API answers with. `code` is stable (clients branch on it),
// `message` says what went wrong and what to do, `details` carries the specifics (e.g. fields).
export class AppError extends Error {
  readonly code: string;
  readonly httpStatus: number;
  readonly details?: unknown;

  constructor(code: string, httpStatus: number, message: string, details?: unknown, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "AppError";
    this.code = code;
    this.httpStatus = httpStatus;
    this.details = details;
  }
}

export type FieldProblem = { field: string; message: string };

export const validationError = (problems: FieldProblem[], message?: string) =>
  new AppError(
    "validation_failed",
    400,
    message ?? `Invalid request: ${problems.map((p) => `${p.field || "body"}: ${p.message}`).join("; ")}`,
    problems,
  );

export const unauthorized = (message = "Missing or wrong bearer token: send 'Authorization: Bearer <ADMIN_API_TOKEN>'.") =>
  new AppError("unauthorized", 401, message);

export const notFound = (what: string, id?: string) =>
  new AppError("not_found", 404, id === undefined ? `${what} not found.` : `${what} ${id} not found.`);

export const conflict = (code: string, message: string, details?: unknown) => new AppError(code, 409, message, details);

/**
 * A body over a limit: names the limit and what changes it (or that nothing does), so a client
 * knows whether to send less or ask the operator to raise a setting.
 */
export const payloadTooLarge = (what: string, limitBytes: number, remedy: string) =>
  new AppError("payload_too_large", 413, `${what} is larger than the limit of ${limitBytes} bytes (${formatBytes(limitBytes)}); ${remedy}`, {
    limitBytes,
  });

/** 1048576 → "1 MiB", 52428800 → "50 MiB", 1536 → "1.5 KiB". */
export function formatBytes(bytes: number): string {
  const [value, unit] = bytes >= 1024 * 1024 ? [bytes / 1024 / 1024, "MiB"] : bytes >= 1024 ? [bytes / 1024, "KiB"] : [bytes, "bytes"];
  return `${Number(value.toFixed(1))} ${unit}`;
}

export const unprocessable = (code: string, message: string, details?: unknown) =>
  new AppError(code, 422, message, details);

export const databaseUnavailable = () =>
  new AppError(
    "database_unavailable",
    503,
    "The database cannot be reached right now; nothing was changed. Retry after the number of seconds in Retry-After: mailgate reconnects by itself.",
  );
