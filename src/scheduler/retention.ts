// Retention, run by every worker instance once at start and then hourly: raw MIME of processed
// mail after RETENTION_DAYS, webhook attempts after WEBHOOK_ATTEMPT_RETENTION_DAYS, error log
// entries after ERROR_LOG_RETENTION_DAYS. Instances running it at once do no harm: each batch
// claims its rows with SKIP LOCKED or deletes rows that are gone for the other.
import type { Context } from "../context.ts";
import { deleteErrorLogBatch, deleteWebhookAttemptsBatch, purgeRawBatch } from "../db/retention-sweeps.ts";
import type { Runtime } from "../runtime.ts";
import { recordError } from "../db/error-log.ts";

const DAY_MS = 24 * 60 * 60 * 1000;
export const RETENTION_INTERVAL_MS = 60 * 60 * 1000;
const BATCH = 500;

export type RetentionResult = { rawPurged: number; webhookAttemptsDeleted: number; errorLogDeleted: number };

export async function runRetention(
  ctx: Context,
  now: Date,
  opts: { batchSize?: number; signal?: AbortSignal } = {},
): Promise<RetentionResult> {
  const limit = opts.batchSize ?? BATCH;
  const daysAgo = (days: number) => new Date(now.getTime() - days * DAY_MS);
  const sweep = async (batch: () => Promise<number>) => {
    let total = 0;
    for (;;) {
      const n = await batch();
      total += n;
      if (n < limit || opts.signal?.aborted) return total;
    }
  };
  const rawPurged = await sweep(() => purgeRawBatch(ctx.db, { before: daysAgo(ctx.config.retentionDays), now, limit }));
  const webhookAttemptsDeleted = await sweep(() =>
    deleteWebhookAttemptsBatch(ctx.db, { before: daysAgo(ctx.config.webhookAttemptRetentionDays), limit }),
  );
  const errorLogDeleted = await sweep(() => deleteErrorLogBatch(ctx.db, { before: daysAgo(ctx.config.errorLogRetentionDays), limit }));
  return { rawPurged, webhookAttemptsDeleted, errorLogDeleted };
}

export function startRetention(ctx: Context, opts: { intervalMs?: number } = {}): Runtime {
  const stopping = new AbortController();
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> = Promise.resolve();

  const runOnce = async () => {
    try {
      const result = await runRetention(ctx, ctx.clock.now(), { signal: stopping.signal });
      ctx.log.info(result, "retention done");
    } catch (err) {
      if (ctx.databaseOutage.report(err)) return; // nothing to record it in; it runs again within the hour
      ctx.log.error({ err }, "retention failed; it runs again within the hour");
      const message = `Retention failed: ${err instanceof Error ? err.message : String(err)}. Old raw MIME and logs are kept until a later run succeeds.`;
      await recordError(ctx.db, { at: ctx.clock.now(), kind: "retention_failed", message, details: null })
        .catch((logErr: unknown) => ctx.log.error({ err: logErr }, "recording the retention failure failed"));
    }
  };
  const schedule = () => {
    if (stopping.signal.aborted) return;
    timer = setTimeout(() => {
      running = runOnce().then(schedule);
    }, opts.intervalMs ?? RETENTION_INTERVAL_MS);
  };
  running = runOnce().then(schedule);

  return {
    stop: async () => {
      stopping.abort();
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
