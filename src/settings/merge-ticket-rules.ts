// The stored ticket rules hold only what an operator changed; the guide's defaults fill the rest.
// Each stored key is checked on its own, so one value an older version wrote cannot stop the
// pipeline: it falls back to its default instead.
import { DEFAULT_TICKET_RULES, ticketRulesSchema, type TicketRules } from "./ticket-rules.ts";

export type StoredTicketRules = Partial<Record<keyof TicketRules, unknown>>;

const KEYS = Object.keys(ticketRulesSchema.shape) as (keyof TicketRules)[];

export function mergeTicketRules(stored: unknown): TicketRules {
  const rules: Record<string, unknown> = { ...DEFAULT_TICKET_RULES };
  if (stored && typeof stored === "object" && !Array.isArray(stored)) {
    for (const key of KEYS) {
      if (!(key in stored)) continue;
      const parsed = ticketRulesSchema.shape[key].safeParse((stored as Record<string, unknown>)[key]);
      if (parsed.success) rules[key] = parsed.data;
    }
  }
  return rules as TicketRules;
}

/** The stored overrides with the top-level keys of a PUT replacing theirs. */
export function applyTicketRulesPatch(stored: unknown, patch: Partial<TicketRules>): StoredTicketRules {
  const base = stored && typeof stored === "object" && !Array.isArray(stored) ? (stored as Record<string, unknown>) : {};
  const next: StoredTicketRules = {};
  for (const key of KEYS) {
    if (patch[key] !== undefined) next[key] = patch[key];
    else if (key in base) next[key] = base[key];
  }
  return next;
}
