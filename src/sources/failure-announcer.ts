// The announcer: sends source.failed for a failure a retry may fix once it has lasted
// SOURCE_FAILED_WEBHOOK_DELAY_SECONDS. A retry that fails the same way writes nothing, and a
// source may stop retrying altogether (a failed authorization), so the delay is kept here.
import { and, eq, isNotNull, isNull, sql } from "drizzle-orm";
import type { Context } from "../context.ts";
import type { Executor } from "../db/client.ts";
import { errorLog, mailSources } from "../db/schema.ts";
import type { Runtime } from "../runtime.ts";
import { isFailureDue } from "./failure-announcement.ts";
import { failedWebhookDelayMs, recordAnnouncement, type SourceError } from "./source-status.ts";

/**
 * Sends source.failed for every failure that has now lasted the delay without a retry saying so
 * (a retry writes nothing while the failure stays the same). Returns when the next pending one
 * falls due, or null when none is pending.
 */
export async function announceLastingFailures(ctx: Context): Promise<Date | null> {
  const now = ctx.clock.now();
  const delayMs = failedWebhookDelayMs(ctx);
  const pending = await ctx.db
    .select({ id: mailSources.id, failingSince: mailSources.failingSince })
    .from(mailSources)
    .where(and(eq(mailSources.status, "error"), isNull(mailSources.failureAnnouncedAt), isNotNull(mailSources.failingSince)));
  let next: Date | null = null;
  let announced = false;
  for (const { id, failingSince } of pending) {
    if (failingSince === null) continue;
    if (isFailureDue(failingSince, now, delayMs)) announced = (await announceIfStillFailing(ctx, id, now, delayMs)) || announced;
    else if (next === null || failingSince.getTime() + delayMs < next.getTime()) next = new Date(failingSince.getTime() + delayMs);
  }
  if (announced) ctx.database.wake("deliveries");
  return next;
}

async function announceIfStillFailing(ctx: Context, sourceId: string, now: Date, delayMs: number): Promise<boolean> {
  return ctx.db.transaction(async (tx) => {
    const [row] = await tx
      .select({ status: mailSources.status, lastError: mailSources.lastError, failingSince: mailSources.failingSince, failureAnnouncedAt: mailSources.failureAnnouncedAt })
      .from(mailSources)
      .where(eq(mailSources.id, sourceId))
      .for("update");
    // Another instance announced it, or the source connected, since the look.
    if (!row || row.status !== "error" || row.failureAnnouncedAt !== null || row.failingSince === null || !isFailureDue(row.failingSince, now, delayMs)) {
      return false;
    }
    await tx.update(mailSources).set({ failureAnnouncedAt: now }).where(eq(mailSources.id, sourceId));
    await recordAnnouncement(tx, sourceId, "source.failed", await currentFailure(tx, sourceId, row.failingSince, row.lastError), now);
    return true;
  });
}

/** The failure the error log recorded last in this streak: it carries the code lastError lacks. */
async function currentFailure(tx: Executor, sourceId: string, failingSince: Date, lastError: string | null): Promise<SourceError> {
  const [entry] = await tx
    .select({ message: errorLog.message, details: errorLog.details })
    .from(errorLog)
    .where(and(eq(errorLog.sourceId, sourceId), eq(errorLog.kind, "connection_failed"), sql`${errorLog.at} >= ${failingSince.toISOString()}::timestamptz`))
    .orderBy(sql`${errorLog.at} desc`)
    .limit(1);
  const code = (entry?.details as { code?: unknown } | null)?.code;
  return { code: typeof code === "string" ? code : "unknown", message: entry?.message ?? lastError ?? "The source keeps failing." };
}

/** How often the announcer looks for new failures at most; a pending one is announced when due. */
const ANNOUNCER_POLL_MS = 30_000;

/** Runs announceLastingFailures on every instance with the sources role; the row lock makes it once. */
export function startFailureAnnouncer(ctx: Context): Runtime {
  let running = true;
  let timer: NodeJS.Timeout | undefined;
  let current: Promise<void> = Promise.resolve();
  const delayMs = failedWebhookDelayMs(ctx);
  // A delay shorter than the poll is checked that often, so it is kept to within itself.
  const pollMs = delayMs > 0 ? Math.min(ANNOUNCER_POLL_MS, Math.max(1_000, delayMs)) : ANNOUNCER_POLL_MS;
  const pass = async () => {
    let next: Date | null = null;
    try {
      next = await announceLastingFailures(ctx);
    } catch (err) {
      if (!ctx.databaseOutage.report(err)) ctx.log.error({ err }, "announcing lasting source failures failed; it runs again shortly");
    }
    if (!running) return;
    const untilDue = next === null ? pollMs : Math.max(0, next.getTime() - ctx.clock.now().getTime());
    timer = setTimeout(() => void (current = pass()), Math.min(pollMs, untilDue));
  };
  current = pass();
  return {
    stop: async () => {
      running = false;
      clearTimeout(timer);
      await current;
    },
  };
}

