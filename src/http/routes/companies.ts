// Companies and their email domains (the guide's "Domain-Based Routing"). A domain belongs to one
// company; mapping one may send the mail that waited for it back through routing ("reroute").
import { Router } from "express";
import { z } from "zod";
import type { Context } from "../../context.ts";
import { AppError, conflict, notFound } from "../../errors.ts";
import type { Executor } from "../../db/client.ts";
import {
  clearDefaultCompany,
  companyMailboxes,
  companyName,
  deleteCompany,
  domainOwners,
  findCompany,
  insertCompany,
  listCompanies,
  mapDomains,
  rerouteDomain,
  sourcesOfCompany,
  unmapDomain,
  updateCompany,
  type CompanyRecord,
  type DomainOwner,
  type Mailbox,
} from "../../db/companies.ts";
import { isForeignKeyViolation } from "../../db/pg-error.ts";
import { getTicketRules } from "../../db/settings.ts";
import { domainField, nameField, normaliseDomain } from "../directory-fields.ts";
import { parsePage, toPage } from "../pagination.ts";
import { parseId } from "../params.ts";
import { parseWith } from "../validate.ts";

const domainList = z
  .array(domainField)
  .max(500, "at most 500 domains")
  .superRefine((domains, issues) => {
    domains.forEach((domain, i) => {
      if (domains.indexOf(domain) !== i) issues.addIssue({ code: "custom", path: [i], message: `${domain} is listed twice; list each domain once` });
    });
  });

const createBody = z.object({ name: nameField, domains: domainList.optional(), isDefault: z.boolean().optional() }).strict();
const patchBody = z.object({ name: nameField.optional(), isDefault: z.boolean().optional() }).strict();
const domainBody = z.object({ domain: domainField, reroute: z.boolean().optional() }).strict();

export const companyView = (c: CompanyRecord) => ({
  id: c.id,
  name: c.name,
  domains: c.domains,
  isDefault: c.isDefault,
  createdAt: c.createdAt.toISOString(),
  updatedAt: c.updatedAt.toISOString(),
});

const domainConflict = (owner: DomainOwner) =>
  conflict(
    "domain_conflict",
    `The domain ${owner.domain} is already mapped to the company "${owner.companyName}"; remove it there first ` +
      `(DELETE /api/companies/${owner.companyId}/domains/${owner.domain}) or leave it out.`,
    owner,
  );

const mailboxesBlockDelete = (name: string, sources: Mailbox[]) =>
  conflict(
    "company_has_mailboxes",
    `The company "${name}" still has ${sources.length === 1 ? "a mailbox" : `${sources.length} mailboxes`} ` +
      `(${sources.map((s) => s.address).join(", ")}); delete them or reassign them to another company first.`,
    { mailboxes: sources },
  );

/**
 * Maps the domains to the company; a domain another company owns aborts the whole transaction.
 * Answers whether anything new was mapped (false: the company had them all already).
 */
async function claimDomains(tx: Executor, companyId: string, domains: string[], at: Date): Promise<boolean> {
  const mapped = new Set(await mapDomains(tx, companyId, domains, at));
  const owners = await domainOwners(tx, domains.filter((d) => !mapped.has(d)));
  const foreign = owners.find((o) => o.companyId !== companyId);
  if (foreign) throw domainConflict(foreign);
  if (mapped.size + owners.length < domains.length) {
    // A domain was unmapped between our insert and our look-up.
    throw conflict("domain_changed", "Another request changed these domains at the same time; send the request again.");
  }
  return mapped.size > 0;
}

export function companyRoutes(ctx: Context): Router {
  const router = Router();
  companyCrudRoutes(router, ctx);
  domainRoutes(router, ctx);
  return router;
}

async function loadCompany(ctx: Context, id: string): Promise<CompanyRecord> {
  const company = await findCompany(ctx.db, id);
  if (!company) throw notFound("Company", id);
  return company;
}

/** The company's view with its mailboxes. */
async function detailedCompany(ctx: Context, id: string) {
  const company = await loadCompany(ctx, id);
  return { ...companyView(company), mailboxes: await companyMailboxes(ctx.db, id) };
}

function companyCrudRoutes(router: Router, ctx: Context): void {
  router.post("/companies", async (req, res) => {
    const body = parseWith(createBody, req.body);
    const at = ctx.clock.now();
    const id = await ctx.db.transaction(async (tx) => {
      if (body.isDefault) await clearDefaultCompany(tx, at);
      const id = await insertCompany(tx, { name: body.name, isDefault: body.isDefault ?? false, at });
      await claimDomains(tx, id, body.domains ?? [], at);
      return id;
    });
    res.status(201).json(companyView(await loadCompany(ctx, id)));
  });

  router.get("/companies", async (req, res) => {
    const page = parsePage(req.query);
    res.json(toPage(await listCompanies(ctx.db, page), page, companyView));
  });

  router.get("/companies/:id", async (req, res) => {
    res.json(await detailedCompany(ctx, parseId(req.params.id, "Company")));
  });

  router.patch("/companies/:id", async (req, res) => {
    const id = parseId(req.params.id, "Company");
    const body = parseWith(patchBody, req.body);
    const at = ctx.clock.now();
    await ctx.db.transaction(async (tx) => {
      if (body.isDefault) await clearDefaultCompany(tx, at);
      if (!(await updateCompany(tx, id, body, at))) throw notFound("Company", id);
    });
    res.json(await detailedCompany(ctx, id));
  });

  router.delete("/companies/:id", async (req, res) => {
    const id = parseId(req.params.id, "Company");
    await ctx.db.transaction(async (tx) => {
      const name = await companyName(tx, id);
      if (name === null) throw notFound("Company", id);
      const sources = await sourcesOfCompany(tx, id);
      if (sources.length > 0) throw mailboxesBlockDelete(name, sources);
      const { unmappedDomains } = await getTicketRules(tx);
      if (unmappedDomains.mode === "default_company" && unmappedDomains.defaultCompanyId === id) {
        throw conflict(
          "company_in_use",
          `The company "${name}" receives the mail of unmapped domains; change unmappedDomains with PUT /api/settings first.`,
        );
      }
      try {
        await deleteCompany(tx, id);
      } catch (err) {
        // A mailbox created for the company since we looked (mail_sources.company_id restricts).
        if (isForeignKeyViolation(err)) throw mailboxesBlockDelete(name, await sourcesOfCompany(ctx.db, id));
        throw err;
      }
    });
    res.status(204).end();
  });
}

/** Mapping a domain to a company (and rerouting the mail that waited for it) and unmapping it. */
function domainRoutes(router: Router, ctx: Context): void {
  router.post("/companies/:id/domains", async (req, res) => {
    const id = parseId(req.params.id, "Company");
    const body = parseWith(domainBody, req.body);
    const now = ctx.clock.now();
    const outcome = await ctx.db
      .transaction(async (tx) => {
        if ((await companyName(tx, id)) === null) throw notFound("Company", id);
        const created = await claimDomains(tx, id, [body.domain], now);
        const rerouted = body.reroute ? await rerouteDomain(tx, id, body.domain, now) : undefined;
        return { created, rerouted };
      })
      .catch((err: unknown) => {
        // The company was deleted while we mapped its domain.
        throw isForeignKeyViolation(err) ? notFound("Company", id) : err;
      });
    if (outcome.rerouted) ctx.database.wake("inbound");
    const company = await detailedCompany(ctx, id);
    res.status(outcome.created ? 201 : 200).json(outcome.rerouted ? { ...company, rerouted: outcome.rerouted } : company);
  });

  router.delete("/companies/:id/domains/:domain", async (req, res) => {
    const id = parseId(req.params.id, "Company");
    const domain = normaliseDomain(String(req.params.domain));
    const name = await companyName(ctx.db, id);
    if (name === null) throw notFound("Company", id);
    if (domain === null || !(await unmapDomain(ctx.db, id, domain))) {
      throw new AppError("not_found", 404, `The company "${name}" has no domain ${req.params.domain}; GET /api/companies/${id} lists its domains.`);
    }
    res.status(204).end();
  });
}
