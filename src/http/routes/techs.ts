// Techs (API.md "Directory"): who tickets can be assigned to, by the auto-assign rule or later.
import { Router } from "express";
import { z } from "zod";
import type { Context } from "../../context.ts";
import { conflict, notFound } from "../../errors.ts";
import type { Executor } from "../../db/client.ts";
import { isUniqueViolation } from "../../db/pg-error.ts";
import { getTicketRules } from "../../db/settings.ts";
import { deleteTech, findTechByEmail, getTech, insertTech, listTechs, updateTech, type Tech } from "../../db/techs.ts";
import { emailField, nameField } from "../directory-fields.ts";
import { parsePage, toPage } from "../pagination.ts";
import { parseId } from "../params.ts";
import { parseWith } from "../validate.ts";

const createBody = z.object({ name: nameField, email: emailField, active: z.boolean().optional() }).strict();
const patchBody = createBody.partial().strict();
const listQuery = z
  .object({ active: z.enum(["true", "false"], "expected true or false").transform((v) => v === "true").optional() })
  .loose();

const techView = (t: Tech) => ({
  id: t.id,
  name: t.name,
  email: t.email,
  active: t.active,
  createdAt: t.createdAt.toISOString(),
  updatedAt: t.updatedAt.toISOString(),
});

const techExists = (existing: Tech | null, email: string) =>
  conflict(
    "tech_exists",
    `A tech already has the address ${email}${existing ? ` (${existing.name}, ${existing.id})` : ""}; use another address or update that tech.`,
    { email, techId: existing?.id ?? null },
  );

/** The auto-assign rule must keep naming an active tech. */
async function refuseIfAutoAssigned(executor: Executor, tech: Tech, change: "delete" | "deactivate"): Promise<void> {
  const rules = await getTicketRules(executor);
  if (rules.autoAssign.mode === "specific" && rules.autoAssign.techId === tech.id) {
    throw conflict(
      "tech_in_use",
      `New tickets are auto-assigned to ${tech.name} (settings autoAssign.techId); choose another rule with PUT /api/settings before you ${change} this tech.`,
      { field: "autoAssign.techId" },
    );
  }
}

export function techRoutes(ctx: Context): Router {
  const router = Router();

  const load = async (raw: string | string[] | undefined) => {
    const id = parseId(raw, "Tech");
    const tech = await getTech(ctx.db, id);
    if (!tech) throw notFound("Tech", id);
    return tech;
  };

  router.post("/techs", async (req, res) => {
    const body = parseWith(createBody, req.body);
    const tech = await insertTech(ctx.db, { name: body.name, email: body.email, active: body.active ?? true }, ctx.clock.now());
    if (!tech) throw techExists(await findTechByEmail(ctx.db, body.email), body.email);
    res.status(201).json(techView(tech));
  });

  router.get("/techs", async (req, res) => {
    const page = parsePage(req.query);
    const { active } = parseWith(listQuery, req.query, "query");
    res.json(toPage(await listTechs(ctx.db, page, { active }), page, techView));
  });

  router.get("/techs/:id", async (req, res) => {
    res.json(techView(await load(req.params.id)));
  });

  router.patch("/techs/:id", async (req, res) => {
    const current = await load(req.params.id);
    const body = parseWith(patchBody, req.body);
    if (body.active === false && current.active) await refuseIfAutoAssigned(ctx.db, current, "deactivate");
    const updated = await updateTech(ctx.db, current.id, body, ctx.clock.now()).catch(async (err: unknown) => {
      if (body.email !== undefined && isUniqueViolation(err)) throw techExists(await findTechByEmail(ctx.db, body.email), body.email);
      throw err;
    });
    if (!updated) throw notFound("Tech", current.id);
    res.json(techView(updated));
  });

  router.delete("/techs/:id", async (req, res) => {
    const tech = await load(req.params.id);
    await refuseIfAutoAssigned(ctx.db, tech, "delete");
    if (!(await deleteTech(ctx.db, tech.id))) throw notFound("Tech", tech.id);
    res.status(204).end();
  });

  return router;
}
