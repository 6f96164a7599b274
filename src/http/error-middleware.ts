import type { ErrorRequestHandler } from "express";
import { AppError, databaseUnavailable } from "../errors.ts";
import type { DatabaseOutage } from "../db/database-outage.ts";
import type { Logger } from "../log.ts";

/** Seconds a client is asked to wait before it retries while the database is away. */
export const DATABASE_RETRY_AFTER_S = 5;

type BodyParserError = Error & { type?: string; status?: number; limit?: number };

/** The one place errors become HTTP answers: {"error": {code, message, details}}. */
export function errorMiddleware(log: Logger, databaseOutage: DatabaseOutage): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    // A request that met an unreachable database is the client's to retry, not a bug of ours; the
    // outage itself is logged once, not per request.
    if (!(err instanceof AppError) && databaseOutage.report(err)) {
      res.set("Retry-After", String(DATABASE_RETRY_AFTER_S));
      err = databaseUnavailable();
    }
    const appError = toAppError(err);
    if (appError.httpStatus >= 500 && appError.code !== "database_unavailable") {
      log.error({ err, method: req.method, path: req.path }, "request failed");
    }
    res.status(appError.httpStatus).json({
      error: { code: appError.code, message: appError.message, ...(appError.details === undefined ? {} : { details: appError.details }) },
    });
  };
}

function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  const e = err as BodyParserError;
  switch (e?.type) {
    case "entity.too.large":
      // Each body parser answers its own limit with its own remedy (withTooLarge); this is the net
      // under one that does not, and it suggests no setting, which might not be the one that applies.
      return new AppError("payload_too_large", 413, `The request body is larger than the limit of ${e.limit} bytes.`, { limitBytes: e.limit });
    case "entity.parse.failed":
      return new AppError("invalid_json", 400, "The request body is not valid JSON.");
    case "encoding.unsupported":
    case "charset.unsupported":
      return new AppError("unsupported_encoding", 415, e.message);
  }
  return new AppError("internal_error", 500, "Something went wrong on our side; the error log has the details.", undefined, { cause: err });
}
