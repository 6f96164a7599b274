// The ticket creation rules (API.md "Settings"; the guide's "Ticket Creation Rules"). GET answers
// them with the defaults filled in; PUT takes any subset of the top-level keys, each one sent
// replacing the stored one whole, and checks that what they name exists.
import { Router } from "express";
import type { Context } from "../../context.ts";
import { validationError } from "../../errors.ts";
import { getTicketRules, lockStoredTicketRules, ruleReferenceProblems, saveTicketRules } from "../../db/settings.ts";
import { applyTicketRulesPatch, mergeTicketRules } from "../../settings/merge-ticket-rules.ts";
import { ticketRulesSchema } from "../../settings/ticket-rules.ts";
import { parseWith } from "../validate.ts";

const patchBody = ticketRulesSchema.partial().strict();

export function settingsRoutes(ctx: Context): Router {
  const router = Router();

  router.get("/settings", async (_req, res) => {
    res.json(await getTicketRules(ctx.db));
  });

  router.put("/settings", async (req, res) => {
    const patch = parseWith(patchBody, req.body);
    const rules = await ctx.db.transaction(async (tx) => {
      const overrides = applyTicketRulesPatch(await lockStoredTicketRules(tx), patch);
      const problems = await ruleReferenceProblems(tx, mergeTicketRules(overrides));
      if (problems.length > 0) throw validationError(problems);
      return saveTicketRules(tx, overrides, ctx.clock.now());
    });
    res.json(rules);
  });

  return router;
}
