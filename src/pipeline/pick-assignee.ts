// Auto-assign from the guide's ticket creation rules: a specific tech, round-robin, or none.
import type { TicketRules } from "../settings/ticket-rules.ts";

/**
 * Round robin walks the active techs in id order, so the turn does not depend on the order the
 * database returns them in; the counter comes from the caller (a sequence, so that concurrent
 * workers take turns). A specific tech who is no longer active gets nothing: null, unassigned.
 */
export function pickAssignee(rules: TicketRules["autoAssign"], activeTechIds: string[], roundRobinCounter: number): string | null {
  switch (rules.mode) {
    case "none":
      return null;
    case "specific":
      return activeTechIds.includes(rules.techId) ? rules.techId : null;
    case "round_robin": {
      const techs = [...activeTechIds].sort();
      if (techs.length === 0) return null;
      const turn = Math.trunc(roundRobinCounter);
      return techs[((turn % techs.length) + techs.length) % techs.length] ?? null;
    }
  }
}
