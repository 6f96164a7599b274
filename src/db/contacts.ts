// Contacts: the people who write in, one per (company, email); the email is stored lower-case.
import { and, eq } from "drizzle-orm";
import type { Executor } from "./client.ts";
import { contacts } from "./schema.ts";
import type { Page } from "../http/pagination.ts";
import { pageOrder, pageWhere } from "../http/pagination.ts";

export type ContactRecord = typeof contacts.$inferSelect;

export async function findContact(executor: Executor, id: string): Promise<ContactRecord | null> {
  const [row] = await executor.select().from(contacts).where(eq(contacts.id, id));
  return row ?? null;
}

export async function listContacts(
  executor: Executor,
  page: Page,
  filter: { companyId?: string; email?: string },
): Promise<ContactRecord[]> {
  return executor
    .select()
    .from(contacts)
    .where(
      and(
        filter.companyId === undefined ? undefined : eq(contacts.companyId, filter.companyId),
        filter.email === undefined ? undefined : eq(contacts.email, filter.email),
        pageWhere(page, contacts.createdAt, contacts.id),
      ),
    )
    .orderBy(...pageOrder(contacts.createdAt, contacts.id))
    .limit(page.limit + 1);
}

/** Throws the database's own error on a missing company or a taken email; the route maps both. */
export async function insertContact(
  executor: Executor,
  values: { companyId: string; email: string; name: string | null; at: Date },
): Promise<ContactRecord> {
  const [row] = await executor
    .insert(contacts)
    .values({ companyId: values.companyId, email: values.email, name: values.name, createdAt: values.at, updatedAt: values.at })
    .returning();
  if (!row) throw new Error("contact insert returned nothing");
  return row;
}

export async function updateContact(
  executor: Executor,
  id: string,
  changes: { companyId?: string; email?: string; name?: string | null },
  at: Date,
): Promise<ContactRecord | null> {
  const [row] = await executor
    .update(contacts)
    .set({ ...changes, updatedAt: at })
    .where(eq(contacts.id, id))
    .returning();
  return row ?? null;
}

export async function deleteContact(executor: Executor, id: string): Promise<boolean> {
  const rows = await executor.delete(contacts).where(eq(contacts.id, id)).returning({ id: contacts.id });
  return rows.length > 0;
}

export async function findContactByEmail(executor: Executor, companyId: string, email: string): Promise<ContactRecord | null> {
  const [row] = await executor.select().from(contacts).where(and(eq(contacts.companyId, companyId), eq(contacts.email, email)));
  return row ?? null;
}
