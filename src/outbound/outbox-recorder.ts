// The record phase of the outbox: writes what sends came to, a few milliseconds' worth at a time,
// in one transaction: the attempts, the messages' new state (each only under its claim's lease)
// and, for what is settled, message.sent / message.failed. A write the database refuses is tried
// again while the claims' leases last: an outcome that is never written means the mail is sent
// again once its lease runs out, the one way the outbox sends twice.
import type { Context } from "../context.ts";
import type { Executor } from "../db/client.ts";
import { recordSendResults, type OutboundRow, type SendRecord } from "../db/outbound-messages.ts";
import { pendingWrites, flushPendingWrites } from "../db/pending-writes.ts";
import { ticketSummaries, type TicketSummary } from "../db/reply-context.ts";
import type { SourceRecord } from "../db/sources.ts";
import { stageEvent } from "../delivery/record-event.ts";
import { exponentialMs } from "../scheduler/backoff.ts";

/** An attempt's outcome, with the source it went through (for the event). */
export type Outcome = SendRecord & { source: SourceRecord | null };

export type OutboxRecorder = {
  add(outcome: Outcome): void;
  /** Resolves once every outcome added so far is written, or given up on. */
  idle(): Promise<void>;
};

const FLUSH_EVERY_MS = 5;
const FLUSH_AT = 100;
/** A write still being retried this close to its leases' end is given up: another sender may claim them. */
const LEASE_SAFETY_MS = 5_000;

export function createOutboxRecorder(ctx: Context): OutboxRecorder {
  let pending: Outcome[] = [];
  let flushing: Promise<void> = Promise.resolve();
  let flushTimer: NodeJS.Timeout | null = null;
  let retrying = 0;

  const add = (outcome: Outcome) => {
    pending.push(outcome);
    if (pending.length >= FLUSH_AT) {
      if (flushTimer) clearTimeout(flushTimer);
      flushNow();
    } else if (!flushTimer) {
      flushTimer = setTimeout(flushNow, FLUSH_EVERY_MS);
    }
  };

  const flushNow = () => {
    flushTimer = null;
    const batch = pending;
    pending = [];
    flushing = flushing.then(() => writeOrRetry(batch, 1));
  };

  const writeOrRetry = async (batch: Outcome[], tries: number): Promise<void> => {
    try {
      await writeOutcomes(ctx, batch);
    } catch (err) {
      if (!ctx.databaseOutage.report(err)) ctx.log.error({ err, count: batch.length }, "recording outgoing mail attempts failed");
      const delayMs = exponentialMs(tries, 500, 10_000);
      const deadline = ctx.clock.now().getTime() + delayMs + LEASE_SAFETY_MS;
      const stillLeased = batch.filter((o) => o.claimed.leasedUntil.getTime() > deadline);
      if (stillLeased.length < batch.length) {
        ctx.log.warn({ count: batch.length - stillLeased.length }, "outgoing mail sent but not recorded before its lease ran out: it will be sent again");
      }
      if (stillLeased.length === 0) return;
      retrying++;
      setTimeout(() => {
        retrying--;
        flushing = flushing.then(() => writeOrRetry(stillLeased, tries + 1));
      }, delayMs);
    }
  };

  return {
    add,
    async idle() {
      while (pending.length > 0 || flushTimer || retrying > 0) await new Promise((r) => setTimeout(r, 5));
      await flushing;
    },
  };
}

/** Writes a batch of outcomes in one transaction; what settled wakes the webhook deliveries. */
export async function writeOutcomes(ctx: Context, batch: Outcome[]): Promise<void> {
  if (batch.length === 0) return;
  const settled = await ctx.db.transaction(async (tx) => {
    const rows = await recordSendResults(tx, batch);
    const done = rows.filter((r) => r.status === "sent" || r.status === "failed");
    await recordOutboundEvents(tx, done, batch, ctx.clock.now());
    return done.length;
  });
  if (settled > 0) ctx.database.wake("deliveries");
  for (const o of batch) {
    if (o.result.outcome === "permanent") ctx.log.warn({ outboundMessageId: o.claimed.id, error: o.result.error }, "an outgoing mail failed");
  }
}

async function recordOutboundEvents(executor: Executor, rows: OutboundRow[], batch: Outcome[], now: Date): Promise<void> {
  if (rows.length === 0) return;
  const tickets = await ticketSummaries(executor, [...new Set(rows.map((r) => r.ticketId).filter((id): id is string => id !== null))]);
  const byId = new Map(batch.map((o) => [o.claimed.id, o]));
  const writes = pendingWrites();
  for (const row of rows) {
    const outcome = byId.get(row.id)!;
    const ticket = row.ticketId ? (tickets.get(row.ticketId) ?? null) : null;
    stageEvent(writes, outboundEvent(row, ticket, outcome.source, outcome.attemptedAt));
  }
  await flushPendingWrites(executor, writes, now);
}

function outboundEvent(row: OutboundRow, ticket: TicketSummary | null, source: SourceRecord | null, at: Date) {
  const message = {
    id: row.id,
    kind: row.kind,
    status: row.status as "sent" | "failed",
    messageId: row.messageId,
    providerMessageId: row.providerId,
    to: [...row.to, ...row.cc],
    subject: row.subject,
    attempts: row.attempts,
  };
  const sourceSummary = source ? { id: source.id, name: source.name, kind: source.kind, address: source.address } : null;
  const companyId = ticket?.companyId ?? null;
  const base = { ticket: ticket ? { id: ticket.id, number: ticket.number, subject: ticket.subject } : null, message, source: sourceSummary, at: at.toISOString() };
  return row.status === "sent"
    ? { type: "message.sent", companyId, data: base, at }
    : { type: "message.failed", companyId, data: { ...base, error: { code: "send_failed", message: row.lastError ?? "" } }, at };
}
