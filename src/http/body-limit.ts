// Every body parser has its own limit, and only the raw intake's is a setting (MAX_MESSAGE_BYTES):
// each parser answers a body over its limit with a 413 that names that limit and its own remedy.
import type { RequestHandler } from "express";
import type { AppError } from "../errors.ts";

/** The error body-parser raises for a body over its limit. */
export const isBodyTooLarge = (err: unknown): boolean => (err as { type?: unknown } | null | undefined)?.type === "entity.too.large";

/** The parser, with a body over its limit answered by `tooLarge` instead of body-parser's bare error. */
export function withTooLarge(parser: RequestHandler, tooLarge: () => AppError): RequestHandler {
  return (req, res, next) => parser(req, res, (err?: unknown) => next(isBodyTooLarge(err) ? tooLarge() : err));
}
