import type { z } from "zod";
import { validationError, type FieldProblem } from "../errors.js";

/** Parses a request body or query with a zod schema; a mismatch is a 400 that names every field. */
export function parseWith<S extends z.ZodType>(schema: S, value: unknown, what = "body"): z.infer<S> {
  const result = schema.safeParse(value ?? {});
  if (result.success) return result.data;
  const problems: FieldProblem[] = [];
  for (const issue of result.error.issues) {
    const base = issue.path.map(String).join(".");
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) {
        problems.push({ field: base ? `${base}.${key}` : key, message: "unknown field; remove it" });
      }
    } else {
      problems.push({ field: base || what, message: issue.message });
    }
  }
  return (() => {
    throw validationError(problems);
  })();
}
