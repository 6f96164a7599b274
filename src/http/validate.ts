import type { z } from "zod";
import { validationError, type FieldProblem } from "../errors.ts";

/** Parses a request body or query with a zod schema; a mismatch is a 400 that names every field. */
export function parseWith<S extends z.ZodType>(schema: S, value: unknown, what = "body"): z.infer<S> {
  // The input on each issue tells a missing field from a wrong one; it is read here, never echoed.
  const result = schema.safeParse(value ?? {}, { reportInput: true });
  if (result.success) return result.data;
  const problems: FieldProblem[] = [];
  for (const issue of result.error.issues) {
    const base = issue.path.map(String).join(".");
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) {
        problems.push({ field: base ? `${base}.${key}` : key, message: "unknown field; remove it" });
      }
    } else {
      problems.push({ field: base || what, message: describeIssue(issue) });
    }
  }
  return (() => {
    throw validationError(problems);
  })();
}

/**
 * The issue in words that say what to send: a missing field is "required", with what it takes
 * (zod's own "Invalid input: expected string, received undefined" reads like a wrong value).
 */
function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.input !== undefined || issue.path.length === 0) return issue.message;
  if (issue.code === "invalid_value") return `required: one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
  if (issue.code === "invalid_type") return `required: ${EXPECTED[issue.expected] ?? issue.expected}`;
  return `required (${issue.message})`;
}

const EXPECTED: Record<string, string> = {
  string: "a string",
  number: "a number",
  int: "an integer",
  boolean: "true or false",
  array: "an array",
  object: "an object",
  date: "a date",
};
