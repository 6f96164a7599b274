// A time in a query string (`?since=`, `?from=`): an ISO 8601 instant with its offset, or a date
// (midnight UTC). One parser, so every list that takes a time window reads it the same way.
import { z } from "zod";

export const isoTime = z
  .union([z.iso.datetime({ offset: true }), z.iso.date()], {
    error: "expected an ISO 8601 time such as 2026-01-31T09:00:00Z (or a date, 2026-01-31)",
  })
  .transform((v) => new Date(v));
