// The settings table: one JSON document per key. Today one key, the ticket creation rules, which
// the pipeline reads inside every message's transaction: one primary-key lookup, nothing more.
// The document holds only the keys an operator set; mergeTicketRules fills in the guide's defaults.
import { and, eq } from "drizzle-orm";
import type { Executor, Tx } from "./client.ts";
import { companies, jobTypes, settings, techs } from "./schema.ts";
import type { FieldProblem } from "../errors.ts";
import { mergeTicketRules, type StoredTicketRules } from "../settings/merge-ticket-rules.ts";
import type { TicketRules } from "../settings/ticket-rules.ts";

const TICKET_RULES = "ticket_rules";

export async function storedTicketRules(executor: Executor): Promise<unknown> {
  const [row] = await executor.select({ value: settings.value }).from(settings).where(eq(settings.key, TICKET_RULES));
  return row?.value ?? null;
}

export async function getTicketRules(executor: Executor): Promise<TicketRules> {
  return mergeTicketRules(await storedTicketRules(executor));
}

/** The stored document, with its row held until the transaction ends: concurrent updates apply in turn. */
export async function lockStoredTicketRules(tx: Tx): Promise<unknown> {
  await tx.insert(settings).values({ key: TICKET_RULES, value: {} }).onConflictDoNothing({ target: settings.key });
  const [row] = await tx.select({ value: settings.value }).from(settings).where(eq(settings.key, TICKET_RULES)).for("update");
  return row?.value ?? null;
}

/** Stores the overrides and answers the rules as the pipeline will now see them. */
export async function saveTicketRules(executor: Executor, overrides: StoredTicketRules, at: Date): Promise<TicketRules> {
  await executor
    .insert(settings)
    .values({ key: TICKET_RULES, value: overrides, updatedAt: at })
    .onConflictDoUpdate({ target: settings.key, set: { value: overrides, updatedAt: at } });
  return mergeTicketRules(overrides);
}

/** What the rules name must exist: an active tech to assign to, a company for unmapped mail, a job type. */
export async function ruleReferenceProblems(executor: Executor, rules: TicketRules): Promise<FieldProblem[]> {
  const problems: FieldProblem[] = [];
  if (rules.autoAssign.mode === "specific") {
    const { techId } = rules.autoAssign;
    const [tech] = await executor.select({ id: techs.id }).from(techs).where(and(eq(techs.id, techId), eq(techs.active, true)));
    if (!tech) problems.push({ field: "autoAssign.techId", message: `no active tech ${techId}; create or activate it first` });
  }
  if (rules.unmappedDomains.mode === "default_company" && rules.unmappedDomains.defaultCompanyId !== null) {
    const { defaultCompanyId } = rules.unmappedDomains;
    const [company] = await executor.select({ id: companies.id }).from(companies).where(eq(companies.id, defaultCompanyId));
    if (!company) problems.push({ field: "unmappedDomains.defaultCompanyId", message: `no company ${defaultCompanyId}` });
  }
  const [jobType] = await executor.select({ id: jobTypes.id }).from(jobTypes).where(eq(jobTypes.name, rules.defaultJobType));
  if (!jobType) problems.push({ field: "defaultJobType", message: `no job type named "${rules.defaultJobType}"; create it first` });
  return problems;
}

/**
 * What the rules need to hold: the job type they name ("Support Request" on a fresh install).
 * Seeding the rules' current default, not a fixed name, keeps a job type an operator retired
 * from coming back at the next start. Idempotent and safe when several instances start at once.
 */
export async function seedDefaults(executor: Executor): Promise<void> {
  const { defaultJobType } = await getTicketRules(executor);
  await executor.insert(jobTypes).values({ name: defaultJobType, defaultPriority: null }).onConflictDoNothing({ target: jobTypes.name });
}
