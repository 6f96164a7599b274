// The reads the routing steps need, each one query: company mailboxes among the recipients,
// domain mappings for the sender's domain and its parents, the default company, a ticket by number.
import { and, asc, eq, inArray, sql } from "drizzle-orm";
import type { Executor } from "./client.js";
import { companies, companyDomains, contacts, mailSources, techs, tickets } from "./schema.js";

export async function companiesOfMailboxes(executor: Executor, addresses: string[]): Promise<string[]> {
  if (addresses.length === 0) return [];
  const rows = await executor
    .select({ address: mailSources.address, companyId: mailSources.companyId })
    .from(mailSources)
    .where(and(eq(mailSources.role, "company"), inArray(mailSources.address, addresses.slice(0, 500))));
  const byAddress = new Map(rows.map((r) => [r.address, r.companyId]));
  const ordered: string[] = [];
  for (const a of addresses) {
    const id = byAddress.get(a);
    if (id && !ordered.includes(id)) ordered.push(id);
  }
  return ordered;
}

export async function domainMatches(executor: Executor, domains: string[]): Promise<Record<string, string>> {
  if (domains.length === 0) return {};
  const rows = await executor.select().from(companyDomains).where(inArray(companyDomains.domain, domains));
  return Object.fromEntries(rows.map((r) => [r.domain, r.companyId]));
}

export async function defaultCompanyId(executor: Executor, configured: string | null): Promise<string | null> {
  if (configured) return configured;
  const [row] = await executor.select({ id: companies.id }).from(companies).where(eq(companies.isDefault, true)).limit(1);
  return row?.id ?? null;
}

export type TicketForThreading = {
  ticketId: string;
  contactEmail: string | null;
  participants: string[];
  companyDomains: string[];
};

export async function ticketByNumberForThreading(executor: Executor, number: number): Promise<TicketForThreading | null> {
  if (!Number.isSafeInteger(number)) return null;
  const [row] = await executor
    .select({
      ticketId: tickets.id,
      contactEmail: contacts.email,
      participants: tickets.participants,
      companyDomains: sql<string[] | null>`(select array_agg(d.domain) from company_domains d where d.company_id = ${tickets.companyId})`,
    })
    .from(tickets)
    .leftJoin(contacts, eq(contacts.id, tickets.contactId))
    .where(eq(tickets.number, number));
  if (!row) return null;
  return {
    ticketId: row.ticketId,
    contactEmail: row.contactEmail,
    participants: (row.participants as string[]) ?? [],
    companyDomains: row.companyDomains ?? [],
  };
}

export async function findOrCreateContact(
  executor: Executor,
  input: { companyId: string; email: string; name: string; create: boolean },
): Promise<{ id: string; email: string; name: string | null } | null> {
  const find = () =>
    executor
      .select({ id: contacts.id, email: contacts.email, name: contacts.name })
      .from(contacts)
      .where(and(eq(contacts.companyId, input.companyId), eq(contacts.email, input.email)))
      .limit(1);
  const [found] = await find();
  if (found || !input.create) return found ?? null;
  const [created] = await executor
    .insert(contacts)
    .values({ companyId: input.companyId, email: input.email, name: input.name || null })
    .onConflictDoNothing()
    .returning({ id: contacts.id, email: contacts.email, name: contacts.name });
  return created ?? (await find())[0] ?? null;
}

export async function activeTechIds(executor: Executor): Promise<string[]> {
  const rows = await executor.select({ id: techs.id }).from(techs).where(eq(techs.active, true)).orderBy(asc(techs.id));
  return rows.map((r) => r.id);
}
