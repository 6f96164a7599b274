// Lists answer {items, nextCursor}. The cursor is the (createdAt, id) of the last item, opaque to clients.
import { z } from "zod";
import { and, desc, eq, lt, or, type AnyColumn, type SQL } from "drizzle-orm";
import { parseWith } from "./validate.ts";
import { validationError } from "../errors.ts";

export type Page = { limit: number; after?: { createdAt: Date; id: string } };

const listQuery = z.object({
  limit: z.coerce.number().int().min(1, "expected 1 to 500").max(500, "expected 1 to 500").default(50),
  cursor: z.string().optional(),
});

export function parsePage(query: Record<string, unknown>): Page {
  const { limit, cursor } = parseWith(listQuery.loose(), query, "query");
  if (!cursor) return { limit };
  try {
    const [iso, id] = Buffer.from(cursor, "base64url").toString("utf8").split("|");
    const createdAt = new Date(iso ?? "");
    // Every listed table has UUID ids: any other id would reach Postgres and fail there, as a 500.
    if (!id || !z.uuid().safeParse(id).success || Number.isNaN(createdAt.getTime())) throw new Error("bad cursor");
    return { limit, after: { createdAt, id } };
  } catch {
    throw validationError([{ field: "cursor", message: "not a cursor this API returned; start again without it" }]);
  }
}

/** Newest first: the where-clause and order for a page over (createdAt, id) columns. */
export function pageWhere(page: Page, createdAt: AnyColumn, id: AnyColumn): SQL | undefined {
  if (!page.after) return undefined;
  return or(lt(createdAt, page.after.createdAt), and(eq(createdAt, page.after.createdAt), lt(id, page.after.id)));
}

export function pageOrder(createdAt: AnyColumn, id: AnyColumn) {
  return [desc(createdAt), desc(id)];
}

export function toPage<T extends { createdAt: Date; id: string }, R>(
  rows: T[],
  page: Page,
  map: (row: T) => R,
): { items: R[]; nextCursor: string | null } {
  const more = rows.length > page.limit;
  const items = more ? rows.slice(0, page.limit) : rows;
  const last = items[items.length - 1];
  return {
    items: items.map(map),
    nextCursor: more && last ? Buffer.from(`${last.createdAt.toISOString()}|${last.id}`).toString("base64url") : null,
  };
}
