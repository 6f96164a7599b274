// job_types: the kinds of work a ticket can be ("Support Request"), each with an optional
// priority that overrides the default one. Names are unique.
import { eq } from "drizzle-orm";
import type { Executor } from "./client.ts";
import { jobTypes } from "./schema.ts";
import { pageOrder, pageWhere, type Page } from "../http/pagination.ts";
import type { Priority } from "../settings/ticket-rules.ts";

export type JobType = Omit<typeof jobTypes.$inferSelect, "defaultPriority"> & { defaultPriority: Priority | null };

export async function getJobType(executor: Executor, id: string): Promise<JobType | null> {
  const [row] = await executor.select().from(jobTypes).where(eq(jobTypes.id, id));
  return (row as JobType | undefined) ?? null;
}

export async function findJobTypeByName(executor: Executor, name: string): Promise<JobType | null> {
  const [row] = await executor.select().from(jobTypes).where(eq(jobTypes.name, name));
  return (row as JobType | undefined) ?? null;
}

export async function listJobTypes(executor: Executor, page: Page): Promise<JobType[]> {
  const rows = await executor
    .select()
    .from(jobTypes)
    .where(pageWhere(page, jobTypes.createdAt, jobTypes.id))
    .orderBy(...pageOrder(jobTypes.createdAt, jobTypes.id))
    .limit(page.limit + 1);
  return rows as JobType[];
}

/** Null when a job type with this name exists. */
export async function insertJobType(
  executor: Executor,
  input: { name: string; defaultPriority: Priority | null },
  now: Date,
): Promise<JobType | null> {
  const [row] = await executor
    .insert(jobTypes)
    .values({ ...input, createdAt: now, updatedAt: now })
    .onConflictDoNothing()
    .returning();
  return (row as JobType | undefined) ?? null;
}

/** Throws the driver's unique violation when the new name is taken; callers map it. */
export async function updateJobType(
  executor: Executor,
  id: string,
  patch: { name?: string; defaultPriority?: Priority | null },
  now: Date,
): Promise<JobType | null> {
  const [row] = await executor
    .update(jobTypes)
    .set({ ...patch, updatedAt: now })
    .where(eq(jobTypes.id, id))
    .returning();
  return (row as JobType | undefined) ?? null;
}

export async function deleteJobType(executor: Executor, id: string): Promise<boolean> {
  const rows = await executor.delete(jobTypes).where(eq(jobTypes.id, id)).returning({ id: jobTypes.id });
  return rows.length > 0;
}
