// The guide's "Ticket Creation Rules" for a new ticket: its priority and its job type.
import type { Priority, TicketRules } from "../settings/ticket-rules.ts";

/** The job type's own default priority when it has one ("set default priorities by job type"), else the rules' default. */
export function pickPriority(jobTypeDefault: Priority | null, rules: TicketRules): Priority {
  return jobTypeDefault ?? rules.defaultPriority;
}

export function pickJobType(rules: TicketRules): string {
  return rules.defaultJobType;
}
