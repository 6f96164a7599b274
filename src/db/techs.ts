// techs: the people tickets are assigned to. An address belongs to one tech (unique, lower-case).
import { and, eq } from "drizzle-orm";
import type { Executor } from "./client.ts";
import { techs } from "./schema.ts";
import { pageOrder, pageWhere, type Page } from "../http/pagination.ts";

export type Tech = typeof techs.$inferSelect;

export async function getTech(executor: Executor, id: string): Promise<Tech | null> {
  const [row] = await executor.select().from(techs).where(eq(techs.id, id));
  return row ?? null;
}

export async function findTechByEmail(executor: Executor, email: string): Promise<Tech | null> {
  const [row] = await executor.select().from(techs).where(eq(techs.email, email));
  return row ?? null;
}

export async function listTechs(executor: Executor, page: Page, filter: { active?: boolean }): Promise<Tech[]> {
  return executor
    .select()
    .from(techs)
    .where(and(filter.active === undefined ? undefined : eq(techs.active, filter.active), pageWhere(page, techs.createdAt, techs.id)))
    .orderBy(...pageOrder(techs.createdAt, techs.id))
    .limit(page.limit + 1);
}

/** Null when another tech has this address. */
export async function insertTech(executor: Executor, input: { name: string; email: string; active: boolean }, now: Date): Promise<Tech | null> {
  const [row] = await executor
    .insert(techs)
    .values({ ...input, createdAt: now, updatedAt: now })
    .onConflictDoNothing()
    .returning();
  return row ?? null;
}

/** Throws the driver's unique violation when the new address is taken; callers map it. */
export async function updateTech(
  executor: Executor,
  id: string,
  patch: { name?: string; email?: string; active?: boolean },
  now: Date,
): Promise<Tech | null> {
  const [row] = await executor
    .update(techs)
    .set({ ...patch, updatedAt: now })
    .where(eq(techs.id, id))
    .returning();
  return row ?? null;
}

/** Tickets assigned to the tech stay, unassigned. */
export async function deleteTech(executor: Executor, id: string): Promise<boolean> {
  const rows = await executor.delete(techs).where(eq(techs.id, id)).returning({ id: techs.id });
  return rows.length > 0;
}
