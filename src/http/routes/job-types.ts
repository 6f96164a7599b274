// Job types (API.md "Directory"): what kind of work a ticket is, with an optional priority of its own.
import { Router } from "express";
import { z } from "zod";
import type { Context } from "../../context.ts";
import { conflict, notFound } from "../../errors.ts";
import { isUniqueViolation } from "../../db/pg-error.ts";
import { deleteJobType, findJobTypeByName, getJobType, insertJobType, listJobTypes, updateJobType, type JobType } from "../../db/job-types.ts";
import { getTicketRules, lockStoredTicketRules, saveTicketRules } from "../../db/settings.ts";
import { applyTicketRulesPatch, mergeTicketRules } from "../../settings/merge-ticket-rules.ts";
import { PRIORITIES } from "../../settings/ticket-rules.ts";
import { nameField } from "../directory-fields.ts";
import { parsePage, toPage } from "../pagination.ts";
import { parseId } from "../params.ts";
import { parseWith } from "../validate.ts";

const defaultPriority = z.enum(PRIORITIES, `expected one of ${PRIORITIES.join(", ")}`).nullable();

const createBody = z.object({ name: nameField, defaultPriority: defaultPriority.optional() }).strict();
const patchBody = createBody.partial().strict();

const jobTypeView = (j: JobType) => ({
  id: j.id,
  name: j.name,
  defaultPriority: j.defaultPriority,
  createdAt: j.createdAt.toISOString(),
  updatedAt: j.updatedAt.toISOString(),
});

const jobTypeExists = (existing: JobType | null, name: string) =>
  conflict("job_type_exists", `A job type named "${name}" already exists; choose another name.`, { name, jobTypeId: existing?.id ?? null });

export function jobTypeRoutes(ctx: Context): Router {
  const router = Router();

  const load = async (raw: string | string[] | undefined) => {
    const id = parseId(raw, "Job type");
    const jobType = await getJobType(ctx.db, id);
    if (!jobType) throw notFound("Job type", id);
    return jobType;
  };

  router.post("/job-types", async (req, res) => {
    const body = parseWith(createBody, req.body);
    const jobType = await insertJobType(ctx.db, { name: body.name, defaultPriority: body.defaultPriority ?? null }, ctx.clock.now());
    if (!jobType) throw jobTypeExists(await findJobTypeByName(ctx.db, body.name), body.name);
    res.status(201).json(jobTypeView(jobType));
  });

  router.get("/job-types", async (req, res) => {
    const page = parsePage(req.query);
    res.json(toPage(await listJobTypes(ctx.db, page), page, jobTypeView));
  });

  router.get("/job-types/:id", async (req, res) => {
    res.json(jobTypeView(await load(req.params.id)));
  });

  router.patch("/job-types/:id", async (req, res) => {
    const current = await load(req.params.id);
    const body = parseWith(patchBody, req.body);
    const now = ctx.clock.now();
    const updated = await ctx.db
      .transaction(async (tx) => {
        const updated = await updateJobType(tx, current.id, body, now);
        // Renaming the default job type renames it in the rules too, so they keep naming one that exists.
        if (updated && updated.name !== current.name) {
          const stored = await lockStoredTicketRules(tx);
          if (mergeTicketRules(stored).defaultJobType === current.name) {
            await saveTicketRules(tx, applyTicketRulesPatch(stored, { defaultJobType: updated.name }), now);
          }
        }
        return updated;
      })
      .catch(async (err: unknown) => {
        if (body.name !== undefined && isUniqueViolation(err)) throw jobTypeExists(await findJobTypeByName(ctx.db, body.name), body.name);
        throw err;
      });
    if (!updated) throw notFound("Job type", current.id);
    res.json(jobTypeView(updated));
  });

  router.delete("/job-types/:id", async (req, res) => {
    const jobType = await load(req.params.id);
    const rules = await getTicketRules(ctx.db);
    if (rules.defaultJobType === jobType.name) {
      throw conflict(
        "job_type_in_use",
        `"${jobType.name}" is the default job type of new tickets (settings defaultJobType); choose another with PUT /api/settings first.`,
        { field: "defaultJobType" },
      );
    }
    if (!(await deleteJobType(ctx.db, jobType.id))) throw notFound("Job type", jobType.id);
    res.status(204).end();
  });

  return router;
}
