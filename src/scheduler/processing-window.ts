// When a source's mail may become tickets. Continuous and manual sources: at once. Scheduled
// sources: only inside their windows, the minutes their cron expressions match in their timezone
// ("0 8-18 * * 1-5": at the top of every business hour; "* 8-17 * * 1-5": all business hours).
// Mail that arrives outside is kept, `received`, and processed when the next window opens.
import { Cron } from "croner";
import type { Schedule } from "../sources/source-config.ts";

const MINUTE = 60_000;

/** null: process now. A date: hold until then. */
export function nextProcessingTime(schedule: Schedule | null | undefined, now: Date): Date | null {
  if (!schedule || schedule.mode !== "scheduled") return null;
  const minute = Math.floor(now.getTime() / MINUTE) * MINUTE;
  let next: number | null = null;
  for (const expression of schedule.cron) {
    const run = new Cron(expression, { timezone: schedule.timezone, paused: true }).nextRun(new Date(minute - 1));
    if (!run) continue;
    if (run.getTime() === minute) return null; // inside a window
    next = next === null ? run.getTime() : Math.min(next, run.getTime());
  }
  return next === null ? null : new Date(next);
}

/** Why a cron expression cannot be used, or null when it can. */
export function cronProblem(expression: string, timezone: string): string | null {
  try {
    new Cron(expression, { timezone, paused: true });
    return null;
  } catch (err) {
    return `"${expression}" is not a cron expression mailgate understands (${(err as Error).message}); use 5 fields, e.g. "0 8-18 * * 1-5"`;
  }
}
