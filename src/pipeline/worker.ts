// Pipeline workers: claim a `received` message, run the whole pipeline on it in ONE transaction,
// settle its status. A transient failure (the database away, a serialization conflict) retries
// with backoff; anything else leaves it `failed` with the error, raw bytes kept for reprocess.
import type { Context } from "../context.js";
import { claimNextInbound, deferInbound, holdInbound, markSourceProcessed, settleInbound, type Settlement } from "../db/inbound-claims.js";
import { nextProcessingTime } from "../scheduler/processing-window.js";
import type { Schedule } from "../sources/source-config.js";
import { errorLog } from "../db/schema.js";
import type { Tx } from "../db/client.js";
import { startWorkLoop } from "../scheduler/work-loop.js";
import type { Runtime } from "../runtime.js";
import { parseEmail, type ParsedEmail } from "./parse-email.js";
import { processMessage, type Outcome, type SourceInfo } from "./process-message.js";
import { isTransientError, retryDelayMs } from "./failure-policy.js";

export function startPipelineWorkers(ctx: Context, opts: { concurrency?: number; pollMs?: number } = {}): Runtime {
  const loop = startWorkLoop({
    name: "pipeline",
    database: ctx.database,
    channel: "inbound",
    // PGlite is one session: more than one worker would only queue behind it.
    concurrency: ctx.database.kind === "pglite" ? 1 : (opts.concurrency ?? ctx.config.workerConcurrency),
    pollMs: opts.pollMs ?? 1000,
    log: ctx.log,
    step: () => processNextMessage(ctx),
  });
  return { stop: () => loop.stop() };
}

/** Processes one due message; false when none was waiting. */
export async function processNextMessage(ctx: Context): Promise<boolean> {
  let claimedId: string | null = null;
  let attempts = 0;
  let events = false;
  let receivedAt: Date | null = null;
  try {
    const handled = await ctx.db.transaction(async (tx) => {
      const now = ctx.clock.now();
      const row = await claimNextInbound(tx, now);
      if (!row) return false;
      claimedId = row.id;
      attempts = row.attempts;
      const holdUntil = nextProcessingTime(row.source?.schedule as Schedule | null, now);
      if (holdUntil) {
        await holdInbound(tx, row.id, holdUntil);
        return true;
      }
      // Latency is observed for mail that reached an outcome, not for mail held for its window.
      receivedAt = row.receivedAt;
      if (!row.raw) {
        await fail(tx, row.id, row.sourceId, "The raw message was purged by retention; it cannot be processed.", now);
        return true;
      }
      let email: ParsedEmail;
      try {
        email = await parseEmail(row.raw);
      } catch (err) {
        await fail(tx, row.id, row.sourceId, `The message cannot be parsed: ${(err as Error).message}`, now);
        return true;
      }
      const source: SourceInfo | null = row.source
        ? { id: row.source.id, name: row.source.name, kind: row.source.kind, address: row.source.address, companyId: row.source.companyId, role: row.source.role === "company" ? "company" : "system" }
        : null;
      const outcome = await processMessage(
        tx,
        { inboundMessageId: row.id, receivedAt: row.receivedAt, email, source },
        { ownMessageIdDomain: ctx.config.messageIdDomain, publicUrl: ctx.config.publicUrl, now },
      );
      await Promise.all([
        settleInbound(tx, row.id, settlementOf(outcome, email), now),
        row.sourceId ? markSourceProcessed(tx, row.sourceId, now) : null,
      ]);
      events = "eventIds" in outcome && outcome.eventIds.length > 0;
      return true;
    });
    if (events) ctx.database.wake("deliveries");
    if (receivedAt) ctx.metrics.observePipelineLatency(receivedAt, ctx.clock.now());
    return handled;
  } catch (err) {
    if (!claimedId) throw err; // nothing claimed: the database itself failed; the loop backs off
    await recordFailure(ctx, claimedId, attempts, err);
    return true;
  }
}

async function recordFailure(ctx: Context, id: string, attempts: number, err: unknown): Promise<void> {
  const now = ctx.clock.now();
  const message = err instanceof Error ? err.message : String(err);
  if (isTransientError(err) && attempts < 8) {
    ctx.log.warn({ err, inboundMessageId: id, attempts }, "transient failure; will retry");
    await deferInbound(ctx.db, id, message, new Date(now.getTime() + retryDelayMs(attempts + 1, Math.random)));
    return;
  }
  ctx.log.error({ err, inboundMessageId: id }, "message processing failed");
  await ctx.db.transaction(async (tx) => {
    await fail(tx, id, null, `Processing failed: ${message}`, now, err);
  });
}

async function fail(tx: Tx, id: string, sourceId: string | null, error: string, now: Date, cause?: unknown): Promise<void> {
  await settleInbound(tx, id, { status: "failed", error }, now);
  await tx.insert(errorLog).values({
    at: now,
    sourceId,
    kind: "message_failed",
    message: error,
    details: { inboundMessageId: id, ...(cause instanceof Error && cause.stack ? { stack: cause.stack.split("\n").slice(0, 8) } : {}) },
  });
}

function settlementOf(outcome: Outcome, email: ParsedEmail): Settlement {
  const parsed = { messageId: email.messageId, fromAddress: email.from?.address ?? null, subject: email.subject };
  switch (outcome.kind) {
    case "ticket_created":
      return { ...parsed, status: "ticket_created", ticketId: outcome.ticketId };
    case "note_added":
      return { ...parsed, status: "note_added", ticketId: outcome.ticketId, reason: outcome.reopened ? "reopened the ticket" : null };
    case "lead_created":
      return { ...parsed, status: "lead_created" };
    case "duplicate":
      return { ...parsed, status: "duplicate", duplicateOf: outcome.duplicateOf, ticketId: outcome.ticketId, reason: "the same Message-ID was already received" };
    case "ignored":
      return { ...parsed, status: "ignored", reason: outcome.reason };
    case "unrouted":
      return { ...parsed, status: "unrouted", reason: outcome.reason };
  }
}
