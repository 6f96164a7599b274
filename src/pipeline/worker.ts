// Pipeline workers: claim the waiting `received` messages, run the whole pipeline on them in ONE
// transaction, settle each one's status. A transient failure (the database away, a serialization
// conflict) retries with backoff; anything else leaves it `failed` with the error, raw bytes kept
// for reprocess.
import { isDatabaseUnavailable } from "../db/database-unavailable.ts";
import type { Context } from "../context.ts";
import { eq } from "drizzle-orm";
import { claimDueInbound, retryInboundLater, holdInbound, markSourceProcessed, settleInbound, type ClaimedMessage } from "../db/inbound-claims.ts";
import { flushPendingWrites, pendingWrites, type StagedSettlement } from "../db/pending-writes.ts";
import { nextProcessingTime } from "../scheduler/processing-window.ts";
import type { Schedule } from "../sources/source-config.ts";
import { inboundMessages } from "../db/schema.ts";
import type { Tx } from "../db/client.ts";
import { planOncePerConnection } from "../db/planner.ts";
import { startWorkLoop } from "../scheduler/work-loop.ts";
import type { Runtime } from "../runtime.ts";
import { parseEmail, type ParsedEmail } from "./parse-email.ts";
import { processMessage, type Outcome, type SourceInfo } from "./process-message.ts";
import { batchedRoutingFacts } from "../db/routing-facts.ts";
import { batchedTicketWrites } from "../db/ticket-store.ts";
import { isTransientError, retryDelayMs } from "./failure-policy.ts";
import { recordError } from "../db/error-log.ts";

export function startPipelineWorkers(ctx: Context, opts: { concurrency?: number; pollMs?: number } = {}): Runtime {
  // A burst of mail should find the connections open (a second of the IMAP burst's p99 otherwise).
  ctx.database.warm();
  // The claim size the workers share: it grows while a backlog lasts and falls back when the
  // queue runs dry (nextBatchSize).
  const max = ctx.config.workerBatchSize;
  let batchSize = firstBatchSize(max);
  const onClaim = (found: number, limit: number) => {
    batchSize = nextBatchSize({ limit, found, max });
  };
  const loop = startWorkLoop({
    name: "pipeline",
    database: ctx.database,
    channel: "inbound",
    // PGlite is one session: more than one worker would only queue behind it.
    concurrency: ctx.database.kind === "pglite" ? 1 : (opts.concurrency ?? ctx.config.workerConcurrency),
    pollMs: opts.pollMs ?? 1000,
    log: ctx.log,
    databaseOutage: ctx.databaseOutage,
    step: (more) => processNextMessage(ctx, { more, batchSize, onClaim }),
  });
  return { stop: () => loop.stop() };
}

/** A backlog's first claims take this many messages: the first tickets of a burst come soon. */
export const FIRST_BATCH = 32;

export function firstBatchSize(max: number): number {
  return Math.min(FIRST_BATCH, max);
}

/**
 * The next claim's size, from how many messages the last claim found due: full (a backlog
 * waits), twice as many, up to WORKER_BATCH_SIZE; short (the queue ran dry), back to the first
 * size. However many it asks for, a claim's raw bytes stay within CLAIM_BYTES.
 * Each batch pays a dozen statements and a commit whatever its size: bench:pipeline's database
 * CPU per message was 0.50–0.58 ms in batches of 32 against 0.35–0.44 ms in batches of 96.
 */
export function nextBatchSize(last: { limit: number; found: number; max: number }): number {
  if (last.found < last.limit) return firstBatchSize(last.max);
  return Math.min(last.max, last.limit * 2);
}

/**
 * Processes the due messages a worker can take at once (up to WORKER_BATCH_SIZE) in ONE
 * transaction; false when none was waiting; `more` is called when the claim came back full.
 * Batching shares the round trips to the database among the messages: their statements travel
 * together, so the cost per message is mostly parsing.
 * A batch that fails rolls back whole and each of its messages is then run alone, so one bad
 * email ends `failed` by itself and never holds up the others.
 */
export async function processNextMessage(
  ctx: Context,
  opts: { batchSize?: number; more?: () => void; onClaim?: (found: number, limit: number) => void } = {},
): Promise<boolean> {
  const limit = opts.batchSize ?? ctx.config.workerBatchSize;
  let claimedIds: string[] = [];
  let settled: Settled = NOTHING_SETTLED;
  try {
    const handled = await ctx.db.transaction(async (tx) => {
      const now = ctx.clock.now();
      const { rows, found } = await claimDueInbound(tx, now, { limit });
      opts.onClaim?.(found, limit);
      // A full claim: more may be waiting. Another worker claims it now, beside this one.
      if (found === limit) opts.more?.();
      claimedIds = rows.map((r) => r.id);
      settled = await processClaimed(ctx, tx, rows, now);
      return rows.length > 0;
    });
    afterCommit(ctx, settled);
    return handled;
  } catch (err) {
    // Nothing claimed, or the database went away: the transaction rolled back and the mail is
    // still due, untouched; the loop backs off. Counted against the mail, a long outage would
    // have failed it.
    if (claimedIds.length === 0 || isDatabaseUnavailable(err)) throw err;
    if (claimedIds.length > 1) {
      ctx.log.warn({ err, messages: claimedIds.length }, "a batch failed; processing its messages one at a time");
      for (const id of claimedIds) await processOne(ctx, id);
      return true;
    }
    await recordFailure(ctx, claimedIds[0]!, err);
    return true;
  }
}

/** One message alone, in its own transaction: the path a failed batch falls back to. */
async function processOne(ctx: Context, id: string): Promise<void> {
  let settled: Settled = NOTHING_SETTLED;
  try {
    await ctx.db.transaction(async (tx) => {
      const now = ctx.clock.now();
      settled = await processClaimed(ctx, tx, (await claimDueInbound(tx, now, { limit: 1, id })).rows, now);
    });
    afterCommit(ctx, settled);
  } catch (err) {
    if (isDatabaseUnavailable(err)) throw err;
    await recordFailure(ctx, id, err);
  }
}

/**
 * How long a reply waits when the mail it answers is in another worker's transaction: about one
 * batch, so it is taken again soon after that batch commits. A wait costs a parse when it ends,
 * so a large mail waits longer (25 ms more per MiB, a second at most); a long wait for every mail
 * left the last held replies of a burst idle after everything else was done.
 */
export function replyHoldMs(rawBytes: number): number {
  return Math.min(1000, 50 + Math.round((25 * rawBytes) / (1024 * 1024)));
}

/**
 * Positions of mails that answer (In-Reply-To, References, a bounce's embedded id) another mail
 * of the same batch: they wait for the next claim, when its ticket is committed. Of two mails
 * that name each other, the first goes ahead.
 */
export function answersInBatch(emails: Pick<ParsedEmail, "messageId" | "inReplyTo" | "references" | "embeddedMessageIds">[]): Set<number> {
  const refs = emails.map((e) => new Set([...e.inReplyTo, ...e.references, ...e.embeddedMessageIds]));
  const waiting = new Set<number>();
  emails.forEach((email, i) => {
    const answers = emails.some(
      (other, j) => j !== i && other.messageId !== email.messageId && refs[i]!.has(other.messageId) && (j < i || !refs[j]!.has(email.messageId)),
    );
    if (answers) waiting.add(i);
  });
  return waiting;
}

/** What a processed message leaves for after the commit: webhooks to wake, latency to observe. */
type Done = { receivedAt: Date | null; events: boolean };
/** What a batch leaves: its processed messages, and when the first reply it held is due. */
type Settled = { done: Done[]; retryAt: Date | null };
const NOTHING_SETTLED: Settled = { done: [], retryAt: null };

function afterCommit(ctx: Context, settled: Settled): void {
  if (settled.done.some((s) => s.events)) ctx.database.wake("deliveries");
  const now = ctx.clock.now();
  for (const s of settled.done) if (s.receivedAt) ctx.metrics.observePipelineLatency(s.receivedAt, now);
  // A held reply is taken again when it is due, not at the workers' next poll (a second).
  if (settled.retryAt) setTimeout(() => ctx.database.wake("inbound"), Math.max(0, settled.retryAt.getTime() - now.getTime())).unref();
}

/**
 * Runs the pipeline on claimed messages inside the caller's transaction, all at once. A message
 * that answers another of the same batch (In-Reply-To, References) is left waiting for the next
 * claim, when the ticket it threads to is committed and visible.
 */
async function processClaimed(ctx: Context, tx: Tx, rows: ClaimedMessage[], now: Date): Promise<Settled> {
  if (rows.length === 0) return NOTHING_SETTLED;
  // What follows runs the same few statements with other values, message after message: plan
  // them once (a generic plan) instead of anew each time. The routing-facts statement alone took
  // a quarter of the database's time being re-planned. The claim above keeps its custom plan,
  // which its partial index needs.
  // Sent now (`.then` starts it), ahead of every statement below, and awaited with the parsing.
  const generic = planOncePerConnection(tx).then(() => null);
  const ready: Array<{ row: ClaimedMessage; email: ParsedEmail; source: SourceInfo | null }> = [];
  const work: Array<Promise<Done | null>> = [];
  let retryAt: Date | null = null;
  // Parsed side by side: mailparser streams, so each parse takes several turns of the event
  // loop, and one after the other a busy process (an IMAP burst arriving) paid those turns 32
  // times over: 200-550 ms before the batch's first statement.
  const holds = rows.map((row) => nextProcessingTime(row.source?.schedule as Schedule | null, now));
  const [, ...parsed] = await Promise.all([
    generic,
    ...rows.map((row, i) => (holds[i] || !row.raw ? null : parseEmail(row.raw).catch((err: unknown) => (err instanceof Error ? err : new Error(String(err)))))),
  ]);
  rows.forEach((row, i) => {
    const holdUntil = holds[i];
    if (holdUntil) {
      work.push(holdInbound(tx, row.id, holdUntil).then(() => null));
      return;
    }
    if (!row.raw) {
      work.push(fail(tx, row.id, row.sourceId, "The raw message was purged by retention; it cannot be processed.", now).then(() => ({ receivedAt: row.receivedAt, events: false })));
      return;
    }
    const email = parsed[i]!;
    if (email instanceof Error) {
      work.push(fail(tx, row.id, row.sourceId, `The message cannot be parsed: ${email.message}`, now).then(() => ({ receivedAt: row.receivedAt, events: false })));
      return;
    }
    const source: SourceInfo | null = row.source
      ? { id: row.source.id, name: row.source.name, kind: row.source.kind, address: row.source.address, companyId: row.source.companyId, role: row.source.role === "company" ? "company" : "system" }
      : null;
    ready.push({ row, email, source });
  });

  const writes = pendingWrites();
  const deps = { ownMessageIdDomain: ctx.config.messageIdDomain, publicUrl: ctx.config.publicUrl, now, writes, facts: batchedRoutingFacts(tx) };
  const touchedSources = new Set<string>();
  const waiting = answersInBatch(ready.map((r) => r.email));
  const tickets = batchedTicketWrites(tx, ready.length - waiting.size);
  ready.forEach(({ row, email, source }, i) => {
    if (waiting.has(i)) return; // stays `received`; the next claim takes it
    if (row.sourceId) touchedSources.add(row.sourceId);
    const slot = tickets.slot();
    const processed = processMessage(tx, { inboundMessageId: row.id, receivedAt: row.receivedAt, email, source }, { ...deps, tickets: slot });
    // Done without a ticket write (a duplicate, ignored, held, failed): the batch's need not wait for it.
    void processed.then(slot.pass, slot.pass);
    work.push(
      processed.then(async (outcome) => {
        if (outcome.kind === "held") {
          const at = new Date(now.getTime() + replyHoldMs(row.raw?.length ?? 0));
          if (!retryAt || at < retryAt) retryAt = at;
          await holdInbound(tx, row.id, at);
          return null;
        }
        writes.settlements.push({ id: row.id, ...settlementOf(outcome, email) });
        return { receivedAt: row.receivedAt, events: "eventIds" in outcome && outcome.eventIds.length > 0 };
      }),
    );
  });
  const done = (await Promise.all(work)).filter((s): s is Done => s !== null);
  linkDuplicatesWithinBatch(writes.settlements);
  await Promise.all([flushPendingWrites(tx, writes, now), ...[...touchedSources].map((sourceId) => markSourceProcessed(tx, sourceId, now))]);
  return { done, retryAt };
}

/**
 * A copy of a mail processed in the same batch found its Message-ID claimed before the first
 * one's ticket was linked (that link is written at the batch's end): take the ticket from there.
 */
function linkDuplicatesWithinBatch(settlements: StagedSettlement[]): void {
  const ticketOf = new Map(settlements.map((s) => [s.id, s.ticketId]));
  for (const s of settlements) {
    if (s.status === "duplicate" && !s.ticketId && s.duplicateOf) s.ticketId = ticketOf.get(s.duplicateOf) ?? null;
  }
}

async function recordFailure(ctx: Context, id: string, err: unknown): Promise<void> {
  const now = ctx.clock.now();
  const [row] = await ctx.db.select({ attempts: inboundMessages.attempts }).from(inboundMessages).where(eq(inboundMessages.id, id));
  const attempts = row?.attempts ?? 0;
  const message = reasonOf(err);
  if (isTransientError(err) && attempts < 8) {
    ctx.log.warn({ err, inboundMessageId: id, attempts }, "transient failure; will retry");
    await retryInboundLater(ctx.db, id, message, new Date(now.getTime() + retryDelayMs(attempts + 1, Math.random)));
    return;
  }
  ctx.log.error({ err, inboundMessageId: id }, "message processing failed");
  await ctx.db.transaction(async (tx) => {
    await fail(tx, id, null, `Processing failed: ${message}`, now, err);
  });
}

/**
 * What went wrong, in words an operator can act on: the database's own message rather than the
 * query wrapper's "Failed query: <statement> params: <values>" (the statement is in the error log).
 */
function reasonOf(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause instanceof Error ? err.cause : null;
  return cause && err.message.startsWith("Failed query:") ? cause.message : err.message;
}

async function fail(tx: Tx, id: string, sourceId: string | null, error: string, now: Date, cause?: unknown): Promise<void> {
  await settleInbound(tx, id, { status: "failed", error }, now);
  await recordError(tx, {
    at: now,
    sourceId,
    kind: "message_failed",
    message: error,
    details: { inboundMessageId: id, ...(cause instanceof Error && cause.stack ? { stack: cause.stack.split("\n").slice(0, 8) } : {}) },
  });
}

function settlementOf(outcome: Outcome, email: ParsedEmail): Omit<StagedSettlement, "id"> {
  const parsed = { messageId: email.messageId, fromAddress: email.from?.address ?? null, subject: email.subject, reason: null, error: null, ticketId: null, duplicateOf: null };
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
    case "held":
      throw new Error("a held message is not settled");
  }
}
