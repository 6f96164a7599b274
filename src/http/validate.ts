import type { RequestHandler } from "express";
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

// Postgres text and jsonb cannot hold U+0000 and no field of ours means one: a NUL anywhere a
// client can put one is refused here, once, before any route reads the request.
const NUL_MESSAGE = "must not contain a NUL character (\\u0000)";
const MAX_NUL_PROBLEMS = 50;

/**
 * Every string and object key in a parsed JSON value or query that holds a NUL, named by its path
 * as parseWith names fields ("imap.password", "domains.1"). Walked without recursion: a 1 MB body
 * can nest deeper than the stack.
 */
export function nulProblems(value: unknown): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const stack: Array<{ value: unknown; path: string[] }> = [{ value, path: [] }];
  while (stack.length > 0 && problems.length < MAX_NUL_PROBLEMS) {
    const { value: v, path } = stack.pop()!;
    if (typeof v === "string") {
      if (v.includes("\0")) problems.push({ field: path.join(".") || "body", message: NUL_MESSAGE });
      continue;
    }
    if (v === null || typeof v !== "object") continue;
    const entries: Array<[string, unknown]> = Array.isArray(v) ? v.map((item, i) => [String(i), item]) : isPlainObject(v) ? Object.entries(v) : [];
    const children: typeof stack = [];
    for (const [key, child] of entries) {
      // The key is echoed escaped: a NUL in a JSON answer is legal, in a log or a terminal it is not.
      const name = key.includes("\0") ? JSON.stringify(key).slice(1, -1) : key;
      if (name !== key) problems.push({ field: [...path, name].join("."), message: NUL_MESSAGE });
      children.push({ value: child, path: [...path, name] });
    }
    // Pushed last-first, so fields are named in the order they were sent.
    for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]!);
  }
  return problems;
}

function isPlainObject(v: object): boolean {
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** Path and query of every request: a NUL in either is a 400, on every route, before it runs. */
export const refuseNulInUrl: RequestHandler = (req, _res, next) => {
  // A NUL can only reach a path as %00 (an HTTP request line cannot carry the byte itself).
  const problems: FieldProblem[] = /%00/.test(req.path) ? [{ field: "path", message: "must not contain a NUL character (%00)" }] : [];
  problems.push(...nulProblems(req.query));
  next(problems.length > 0 ? validationError(problems) : undefined);
};

/** A parsed JSON body: mounted after the JSON parser; a raw body (a Buffer) is bytes and is left alone. */
export const refuseNulInBody: RequestHandler = (req, _res, next) => {
  const problems = Buffer.isBuffer(req.body) ? [] : nulProblems(req.body);
  next(problems.length > 0 ? validationError(problems) : undefined);
};
