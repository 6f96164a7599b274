import { createHash, timingSafeEqual } from "node:crypto";
import type { RequestHandler } from "express";
import { unauthorized } from "../errors.ts";

/** Bearer-token check for /api, compared in constant time over hashes of equal length. */
export function requireAdminToken(token: string): RequestHandler {
  const expected = createHash("sha256").update(token).digest();
  return (req, _res, next) => {
    const header = req.headers.authorization ?? "";
    const match = /^Bearer\s+(.+)$/i.exec(header.trim());
    if (!match?.[1]) return next(unauthorized());
    const given = createHash("sha256").update(match[1].trim()).digest();
    if (!timingSafeEqual(given, expected)) return next(unauthorized("The bearer token is wrong: use the ADMIN_API_TOKEN (or DATA_DIR/admin-token)."));
    next();
  };
}
