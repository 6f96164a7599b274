// Constraint violations are how the database settles races (two requests mapping one domain, two
// techs with one email). Drivers report them differently and drizzle wraps them: this finds the
// SQLSTATE and the constraint name wherever they sit in the cause chain.
export type PgErrorInfo = { code: string; constraint: string | undefined };

export const UNIQUE_VIOLATION = "23505";
export const FOREIGN_KEY_VIOLATION = "23503";

export function pgErrorOf(err: unknown): PgErrorInfo | null {
  for (let e: unknown = err, depth = 0; e && typeof e === "object" && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const candidate = e as { code?: unknown; constraint?: unknown; constraint_name?: unknown };
    if (typeof candidate.code === "string" && /^[0-9A-Z]{5}$/.test(candidate.code)) {
      // postgres.js names it constraint_name, PGlite (like node-postgres) constraint.
      const constraint = candidate.constraint_name ?? candidate.constraint;
      return { code: candidate.code, constraint: typeof constraint === "string" ? constraint : undefined };
    }
  }
  return null;
}

export const isUniqueViolation = (err: unknown, constraint?: string) => {
  const info = pgErrorOf(err);
  return info?.code === UNIQUE_VIOLATION && (constraint === undefined || info.constraint === constraint);
};

export const isForeignKeyViolation = (err: unknown) => pgErrorOf(err)?.code === FOREIGN_KEY_VIOLATION;
