import type { z } from "zod";
import { parseWith } from "./validate.ts";

/** Parses list filters; an empty value (`?status=`, as a form's "all" sends it) means no filter. */
export function parseListQuery<S extends z.ZodType>(schema: S, query: Record<string, unknown>): z.infer<S> {
  return parseWith(schema, Object.fromEntries(Object.entries(query).filter(([, v]) => v !== "")), "query");
}
