// Companies, their email domains and the mail waiting for a domain to be mapped.
// The primary key of company_domains decides who owns a domain, whatever the races.
import { and, asc, eq, inArray, isNotNull, sql, type AnyColumn, type SQL } from "drizzle-orm";
import type { Executor } from "./client.ts";
import { companies, companyDomains, inboundMessages, mailSources, tickets } from "./schema.ts";
import type { Page } from "../http/pagination.ts";
import { pageOrder, pageWhere } from "../http/pagination.ts";

export type CompanyRecord = {
  id: string;
  name: string;
  isDefault: boolean;
  domains: string[];
  createdAt: Date;
  updatedAt: Date;
};

export type Mailbox = { id: string; name: string; address: string; kind: string };
export type DomainOwner = { domain: string; companyId: string; companyName: string };
export type Rerouted = { messages: number; tickets: number };

const companyColumns = {
  id: companies.id,
  name: companies.name,
  isDefault: companies.isDefault,
  createdAt: companies.createdAt,
  updatedAt: companies.updatedAt,
  // A correlated sub-select: a page of companies and all their domains in one round trip.
  domains: sql<string[]>`coalesce((select array_agg(d.domain order by d.domain) from company_domains d where d.company_id = ${companies.id}), '{}')`,
};

export async function findCompany(executor: Executor, id: string): Promise<CompanyRecord | null> {
  const [row] = await executor.select(companyColumns).from(companies).where(eq(companies.id, id));
  return row ?? null;
}

/** Newest first; one row more than the page holds, so the caller knows whether another page follows. */
export async function listCompanies(executor: Executor, page: Page): Promise<CompanyRecord[]> {
  return executor
    .select(companyColumns)
    .from(companies)
    .where(pageWhere(page, companies.createdAt, companies.id))
    .orderBy(...pageOrder(companies.createdAt, companies.id))
    .limit(page.limit + 1);
}

export async function companyName(executor: Executor, id: string): Promise<string | null> {
  const [row] = await executor.select({ name: companies.name }).from(companies).where(eq(companies.id, id));
  return row?.name ?? null;
}

export async function insertCompany(executor: Executor, values: { name: string; isDefault: boolean; at: Date }): Promise<string> {
  const [row] = await executor
    .insert(companies)
    .values({ name: values.name, isDefault: values.isDefault, createdAt: values.at, updatedAt: values.at })
    .returning({ id: companies.id });
  if (!row) throw new Error("company insert returned nothing");
  return row.id;
}

export async function updateCompany(
  executor: Executor,
  id: string,
  changes: { name?: string; isDefault?: boolean },
  at: Date,
): Promise<boolean> {
  const rows = await executor
    .update(companies)
    .set({ ...changes, updatedAt: at })
    .where(eq(companies.id, id))
    .returning({ id: companies.id });
  return rows.length > 0;
}

/**
 * Takes the default flag from whichever company holds it. Serialised by a transaction-scoped
 * advisory lock: two requests making two companies the default would otherwise both clear the
 * old one and then collide on companies_one_default.
 */
export async function clearDefaultCompany(executor: Executor, at: Date): Promise<void> {
  await executor.execute(sql`select pg_advisory_xact_lock(hashtext('mailgate.companies.default'))`);
  await executor.update(companies).set({ isDefault: false, updatedAt: at }).where(eq(companies.isDefault, true));
}

export async function deleteCompany(executor: Executor, id: string): Promise<boolean> {
  const rows = await executor.delete(companies).where(eq(companies.id, id)).returning({ id: companies.id });
  return rows.length > 0;
}

/** The company's own mailboxes (role "company"), as GET /api/companies/:id lists them. */
export async function companyMailboxes(executor: Executor, companyId: string): Promise<Mailbox[]> {
  return executor
    .select({ id: mailSources.id, name: mailSources.name, address: mailSources.address, kind: mailSources.kind })
    .from(mailSources)
    .where(and(eq(mailSources.role, "company"), eq(mailSources.companyId, companyId)))
    .orderBy(asc(mailSources.createdAt), asc(mailSources.id));
}

/** Every mail source pointing at the company, whatever its role: each one blocks deleting it. */
export async function sourcesOfCompany(executor: Executor, companyId: string): Promise<Mailbox[]> {
  return executor
    .select({ id: mailSources.id, name: mailSources.name, address: mailSources.address, kind: mailSources.kind })
    .from(mailSources)
    .where(eq(mailSources.companyId, companyId))
    .orderBy(asc(mailSources.createdAt), asc(mailSources.id));
}

export async function domainOwners(executor: Executor, domains: string[]): Promise<DomainOwner[]> {
  if (domains.length === 0) return [];
  return executor
    .select({ domain: companyDomains.domain, companyId: companyDomains.companyId, companyName: companies.name })
    .from(companyDomains)
    .innerJoin(companies, eq(companies.id, companyDomains.companyId))
    .where(inArray(companyDomains.domain, domains))
    .orderBy(asc(companyDomains.domain));
}

/** Maps the domains that nobody owns yet and answers which ones it mapped. */
export async function mapDomains(executor: Executor, companyId: string, domains: string[], at: Date): Promise<string[]> {
  if (domains.length === 0) return [];
  const rows = await executor
    .insert(companyDomains)
    .values(domains.map((domain) => ({ domain, companyId, createdAt: at })))
    .onConflictDoNothing({ target: companyDomains.domain })
    .returning({ domain: companyDomains.domain });
  return rows.map((r) => r.domain);
}

export async function unmapDomain(executor: Executor, companyId: string, domain: string): Promise<boolean> {
  const rows = await executor
    .delete(companyDomains)
    .where(and(eq(companyDomains.companyId, companyId), eq(companyDomains.domain, domain)))
    .returning({ domain: companyDomains.domain });
  return rows.length > 0;
}

// Sender from the domain or one of its sub-domains. The domain is a normalised hostname
// ([a-z0-9.-] only), so it carries no LIKE wildcards.
const fromDomain = (address: AnyColumn | SQL, domain: string): SQL =>
  sql`(lower(${address}) like ${`%@${domain}`} or lower(${address}) like ${`%.${domain}`})`;

/**
 * Sends the mail that waited for this domain back through routing: unrouted messages from it are
 * queued again, and unmapped tickets it started move to the company, unless a more specific
 * domain of another company (eu.acme.com under acme.com) claims their sender.
 */
export async function rerouteDomain(executor: Executor, companyId: string, domain: string, now: Date): Promise<Rerouted> {
  const messages = await executor
    .update(inboundMessages)
    .set({ status: "received", reason: null, error: null, attempts: 0, nextAttemptAt: now })
    // Without its raw bytes (purged by retention) a message cannot be routed again.
    .where(and(eq(inboundMessages.status, "unrouted"), isNotNull(inboundMessages.raw), fromDomain(inboundMessages.fromAddress, domain)))
    .returning({ id: inboundMessages.id });
  const moved = await executor
    .update(tickets)
    .set({ companyId, unmapped: false, updatedAt: now })
    .where(
      and(
        eq(tickets.unmapped, true),
        sql`exists (
          select 1 from ticket_messages m
          where m.ticket_id = ${tickets.id} and m.kind = 'initial' and ${fromDomain(sql`m.from_address`, domain)}
            and not exists (
              select 1 from company_domains d
              where d.company_id <> ${companyId} and length(d.domain) > ${domain.length}
                and (lower(m.from_address) like '%@' || d.domain or lower(m.from_address) like '%.' || d.domain)
            )
        )`,
      ),
    )
    .returning({ id: tickets.id });
  return { messages: messages.length, tickets: moved.length };
}
