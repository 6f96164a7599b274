// Pipeline workers: claim the waiting `received` messages, run the whole pipeline on them in ONE
// transaction, settle each one's status. A transient failure (the database away, a serialization
// conflict) retries with backoff; anything else leaves it `failed` with the error, raw bytes kept
// for reprocess.
import { ownLoopToken } from "../outbound/loop-token.ts";
import { isDatabaseUnavailable } from "../db/database-unavailable.ts";
import type { Context } from "../context.ts";
import { eq } from "drizzle-orm";
import { claimDueInbound, retryInboundLater, holdInbound, markSourcesProcessed, settleInbound, type ClaimedMessage } from "../db/inbound-claims.ts";
import { nextProcessingTime } from "../scheduler/processing-window.ts";
import type { Schedule } from "../sources/source-config.ts";
import { inboundMessages } from "../db/schema.ts";
import type { Tx } from "../db/client.ts";
import { planOncePerConnection } from "../db/planner.ts";
import { startWorkLoop } from "../scheduler/work-loop.ts";
import type { Runtime } from "../runtime.ts";
import { parseEmail, type ParsedEmail } from "./parse-email.ts";
import type { SourceInfo } from "./decide-message.ts";
import { NOTHING_SETTLED, persistBatch, type BatchMail, type BatchResult, type Settled } from "./persist-batch.ts";
import { isTransientError, retryDelayMs } from "./failure-policy.ts";
import { recordError } from "../db/error-log.ts";

export function startPipelineWorkers(ctx: Context, opts: { concurrency?: number; pollMs?: number } = {}): Runtime {
  // A burst of mail should find the connections open, not wait for them to be opened.
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
 * Each batch pays a dozen statements and a commit whatever its size, so a backlog is cheaper per
 * message in larger batches, while the first tickets of a burst come sooner from a small one.
 */
export function nextBatchSize(last: { limit: number; found: number; max: number }): number {
  if (last.found < last.limit) return firstBatchSize(last.max);
  return Math.min(last.max, last.limit * 2);
}

/**
 * Processes the due messages a worker can take at once (up to WORKER_BATCH_SIZE) in ONE
 * transaction; false when none was waiting; `more` is called when the claim came back full or
 * left mail over its byte budget.
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
  let settled: ClaimedResult = { ...NOTHING_SETTLED, leftWaiting: 0 };
  try {
    const handled = await ctx.db.transaction(async (tx) => {
      const now = ctx.clock.now();
      const { rows, found } = await claimDueInbound(tx, now, { limit });
      opts.onClaim?.(found, limit);
      // A full claim: more may be waiting. Another worker claims it now, beside this one. Mail
      // left over the byte budget is this loop's to claim again once this transaction ends.
      if (found === limit || rows.length < found) opts.more?.();
      claimedIds = rows.map((r) => r.id);
      settled = await processClaimed(ctx, tx, rows, now);
      // Replies to mail of this batch were left for the next claim, once this one commits.
      if (settled.leftWaiting > 0) opts.more?.();
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
  let settled: BatchResult = NOTHING_SETTLED;
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

function afterCommit(ctx: Context, settled: BatchResult): void {
  if (settled.settled.some((s) => s.events)) ctx.database.wake("deliveries");
  if (settled.acknowledgements > 0) ctx.database.wake("outbound");
  const now = ctx.clock.now();
  for (const s of settled.settled) ctx.metrics.observePipelineLatency(s.receivedAt, now);
  // A held reply is taken again when it is due, not at the workers' next poll (a second).
  if (settled.retryAt) wakeWhenDue(ctx, settled.retryAt);
}

/**
 * Wakes the workers once the clock has reached `at`. A timer counts from the event loop's cached
 * time, so on a busy loop it fires a few milliseconds early; a claim then would find nothing due
 * and sleep a whole poll. A clock that does not move (a test's) still gets its wake after a few tries.
 */
function wakeWhenDue(ctx: Context, at: Date, tries = 3): void {
  const wait = at.getTime() - ctx.clock.now().getTime();
  if (wait <= 0 || tries === 0) ctx.database.wake("inbound");
  else setTimeout(() => wakeWhenDue(ctx, at, tries - 1), wait).unref();
}

/**
 * Runs the pipeline on claimed messages inside the caller's transaction: parses them, holds those
 * outside their source's processing window, fails those that cannot be read, and hands the rest
 * to persistBatch. A message that answers another of the same batch (In-Reply-To, References) is
 * left waiting for the next claim, when the ticket it threads to is committed and visible.
 */
async function processClaimed(ctx: Context, tx: Tx, rows: ClaimedMessage[], now: Date): Promise<ClaimedResult> {
  if (rows.length === 0) return { ...NOTHING_SETTLED, leftWaiting: 0 };
  // What follows runs the same few statements with other values, batch after batch: plan them
  // once (a generic plan) instead of anew each time. The claim above keeps its custom plan,
  // which its partial index needs. Sent now, ahead of every statement below, and awaited with
  // the parsing.
  const generic = planOncePerConnection(tx).then(() => null);
  // Parsed side by side: mailparser streams, so each parse takes several turns of the event loop,
  // which a busy process (an IMAP burst arriving) would otherwise pay once per message in turn.
  const holds = rows.map((row) => nextProcessingTime(row.source?.schedule as Schedule | null, now));
  const [, ...parsed] = await Promise.all([
    generic,
    ...rows.map((row, i) => (holds[i] || !row.raw ? null : parseEmail(row.raw).catch((err: unknown) => (err instanceof Error ? err : new Error(String(err)))))),
  ]);
  const unreadable: Settled[] = [];
  const ready: BatchMail[] = [];
  const notReadable = (row: ClaimedMessage, error: string) => {
    unreadable.push({ receivedAt: row.receivedAt, events: false });
    return fail(tx, row.id, row.sourceId, error, now);
  };
  // Sent together: the statements travel back to back on the transaction's connection.
  await Promise.all(
    rows.map((row, i) => {
      const email = parsed[i];
      if (holds[i]) return holdInbound(tx, row.id, holds[i]);
      if (!row.raw) return notReadable(row, "The raw message was purged by retention; it cannot be processed.");
      if (!email || email instanceof Error) return notReadable(row, `The message cannot be parsed: ${email?.message ?? "no content"}`);
      ready.push({ inboundMessageId: row.id, receivedAt: row.receivedAt, email, source: sourceInfo(row), rawBytes: row.raw.length });
      return null;
    }),
  );
  const waiting = answersInBatch(ready.map((r) => r.email));
  const taken = ready.filter((_, i) => !waiting.has(i)); // the others stay `received`; the next claim takes them
  const batch = await persistBatch(tx, taken, {
    ownMessageIdDomain: ctx.config.messageIdDomain,
    ownLoopToken: ownLoopToken(ctx),
    publicUrl: ctx.config.publicUrl,
    now,
    replyHoldMs,
  });
  const touchedSources = new Set(taken.flatMap((m) => (m.source ? [m.source.id] : [])));
  await markSourcesProcessed(tx, [...touchedSources], now);
  return { ...batch, settled: [...unreadable, ...batch.settled], leftWaiting: waiting.size };
}

/** What a claim settled, and how many of its messages it left `received` for the next claim. */
type ClaimedResult = BatchResult & { leftWaiting: number };

const sourceInfo = (row: ClaimedMessage): SourceInfo | null =>
  row.source
    ? { id: row.source.id, name: row.source.name, kind: row.source.kind, address: row.source.address, companyId: row.source.companyId, role: row.source.role === "company" ? "company" : "system", canSend: row.source.canSend, acknowledges: row.source.acknowledges }
    : null;

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
