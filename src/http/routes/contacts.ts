// Contacts (API.md "Directory"): the people of a company who write in; one per address and company.
import { Router } from "express";
import { z } from "zod";
import type { Context } from "../../context.ts";
import { conflict, notFound, validationError } from "../../errors.ts";
import { companyName } from "../../db/companies.ts";
import { deleteContact, findContact, findContactByEmail, insertContact, listContacts, updateContact, type ContactRecord } from "../../db/contacts.ts";
import { isForeignKeyViolation, isUniqueViolation } from "../../db/pg-error.ts";
import { emailField } from "../directory-fields.ts";
import { parsePage, toPage } from "../pagination.ts";
import { parseId } from "../params.ts";
import { parseWith } from "../validate.ts";

const companyId = z.uuid("expected a company id");
const name = z.string().trim().max(200, "at most 200 characters").nullable();

const createBody = z.object({ companyId, email: emailField, name: name.optional() }).strict();
const patchBody = z.object({ companyId: companyId.optional(), email: emailField.optional(), name: name.optional() }).strict();
const listQuery = z.object({ companyId: companyId.optional(), email: emailField.optional() }).loose();

const contactView = (c: ContactRecord) => ({
  id: c.id,
  companyId: c.companyId,
  email: c.email,
  name: c.name,
  createdAt: c.createdAt.toISOString(),
  updatedAt: c.updatedAt.toISOString(),
});

const noSuchCompany = (id: string) =>
  validationError([{ field: "companyId", message: `no such company ${id}` }], `There is no company ${id}; GET /api/companies lists them.`);

export function contactRoutes(ctx: Context): Router {
  const router = Router();

  const load = async (raw: string | string[] | undefined) => {
    const id = parseId(raw, "Contact");
    const contact = await findContact(ctx.db, id);
    if (!contact) throw notFound("Contact", id);
    return contact;
  };
  const requireCompany = async (id: string) => {
    if ((await companyName(ctx.db, id)) === null) throw noSuchCompany(id);
  };
  // The unique index (company, email) and the company's foreign key settle what the checks above raced with.
  const mapWriteError = (target: { companyId: string; email: string }) => async (err: unknown) => {
    if (isForeignKeyViolation(err)) throw noSuchCompany(target.companyId);
    if (!isUniqueViolation(err)) throw err;
    const existing = await findContactByEmail(ctx.db, target.companyId, target.email);
    throw conflict(
      "contact_exists",
      `The company already has a contact with the address ${target.email}; update that contact instead.`,
      { ...target, contactId: existing?.id ?? null },
    );
  };

  router.post("/contacts", async (req, res) => {
    const body = parseWith(createBody, req.body);
    await requireCompany(body.companyId);
    const contact = await insertContact(ctx.db, { companyId: body.companyId, email: body.email, name: body.name || null, at: ctx.clock.now() }).catch(
      mapWriteError(body),
    );
    res.status(201).json(contactView(contact));
  });

  router.get("/contacts", async (req, res) => {
    const page = parsePage(req.query);
    const { companyId, email } = parseWith(listQuery, req.query, "query");
    res.json(toPage(await listContacts(ctx.db, page, { companyId, email }), page, contactView));
  });

  router.get("/contacts/:id", async (req, res) => {
    res.json(contactView(await load(req.params.id)));
  });

  router.patch("/contacts/:id", async (req, res) => {
    const current = await load(req.params.id);
    const body = parseWith(patchBody, req.body);
    if (body.companyId !== undefined) await requireCompany(body.companyId);
    const changes = { ...body, ...(body.name !== undefined && { name: body.name || null }) };
    const target = { companyId: body.companyId ?? current.companyId, email: body.email ?? current.email };
    const updated = await updateContact(ctx.db, current.id, changes, ctx.clock.now()).catch(mapWriteError(target));
    if (!updated) throw notFound("Contact", current.id);
    res.json(contactView(updated));
  });

  router.delete("/contacts/:id", async (req, res) => {
    const id = parseId(req.params.id, "Contact");
    if (!(await deleteContact(ctx.db, id))) throw notFound("Contact", id);
    res.status(204).end();
  });

  return router;
}
