// Claiming and settling inbound messages for the pipeline worker.
import { and, eq, inArray, sql } from "drizzle-orm";
import { pgArray, rowsOf, type Executor } from "./client.ts";
import { inboundMessages, mailSources } from "./schema.ts";
import { withPlannerMethodsOff } from "./planner.ts";
import type { InboundStatus } from "./statuses.ts";

export type ClaimedMessage = {
  id: string;
  sourceId: string | null;
  raw: Buffer | null;
  receivedAt: Date;
  attempts: number;
  source: {
    id: string;
    name: string;
    kind: string;
    address: string;
    role: string;
    companyId: string | null;
    schedule: unknown;
    /** Whether mail can be sent through it (Gmail, Graph, or a source with an SMTP block): acknowledgements need it. */
    canSend: boolean;
    /** The mailbox's own acknowledgement switch; null when the ticket rules' decides. */
    acknowledges: boolean | null;
  } | null;
};

/**
 * Locks up to `limit` due `received` messages, oldest first; other workers skip them (FOR UPDATE
 * SKIP LOCKED), and reads the raw bytes of the oldest that fit in `maxBytes` (CLAIM_BYTES; the
 * first is always taken). With `id`, only that message, if it is still waiting. Call it in a
 * transaction.
 *
 * The claim reads the waiting messages in the order of their partial index and stops at `limit`.
 * Left to itself, the planner does that only when the table's statistics are fresh: after a
 * burst (a backlog after downtime, a mailbox's first sync) they are not, it expects a handful of
 * waiting rows, and it fetches, joins and sorts all of them, raw bytes included, to keep 32,
 * again at every claim. Sorting is therefore off for this one statement (planner.ts).
 *
 * The raw bytes come in a second statement, once the sizes are known: summing the sizes in the
 * claim itself needs a sort, which would be priced as if sorting were impossible.
 */
export async function claimDueInbound(executor: Executor, now: Date, opts: { limit: number; id?: string; maxBytes?: number }): Promise<InboundClaim> {
  const rows = await lockDue(executor, now, opts);
  const taken = withinBudget(rows, opts.maxBytes ?? CLAIM_BYTES);
  const raw = await rawOf(executor, taken.map((r) => r.id));
  return { rows: taken.map((r) => toClaimed(r, raw.get(r.id) ?? null)), found: rows.length };
}

/**
 * The most raw bytes one claim takes: its mail is parsed side by side, so a batch of large mails
 * (50 MB each at the largest) would otherwise hold gigabytes at once. The first mail is always
 * taken, however large.
 */
export const CLAIM_BYTES = 32 * 1024 * 1024;

/**
 * What a claim took (oldest first), and how many due messages it found and locked: more than it
 * took when their raw bytes went over the claim's budget. Those stay `received` and are taken by
 * the next claim, once this transaction ends.
 */
export type InboundClaim = { rows: ClaimedMessage[]; found: number };

type LockedRow = {
  id: string;
  source_id: string | null;
  raw_size: number | string;
  received_at: string | Date;
  attempts: number | string;
  s_id: string | null;
  s_name: string;
  s_kind: string;
  s_address: string;
  s_role: string;
  s_company_id: string | null;
  s_schedule: unknown;
  s_can_send: boolean | null;
  s_acknowledges: boolean | null;
};

/** The oldest rows whose sizes add up to at most `maxBytes`; the first one whatever its size. */
function withinBudget(rows: LockedRow[], maxBytes: number): LockedRow[] {
  let bytes = 0;
  const taken: LockedRow[] = [];
  for (const row of rows) {
    bytes += Number(row.raw_size);
    if (taken.length > 0 && bytes > maxBytes) break;
    taken.push(row);
  }
  return taken;
}

// Written as SQL, not with the query builder: built and mapped for every claim, the builder cost
// more of the process than the claim's own round trip during an IMAP burst.
// It must be sent between the two settings: `.then` sends it at once, where `await` (queryRows)
// would send it a turn later, after the statement that turns them back on.
function lockDue(executor: Executor, now: Date, opts: { limit: number; id?: string }): Promise<LockedRow[]> {
  return withPlannerMethodsOff<LockedRow>(
    executor,
    ["enable_sort"],
    sql`select m.id, m.source_id, m.raw_size, m.received_at, m.attempts,
               s.id as s_id, s.name as s_name, s.kind as s_kind, s.address as s_address, s.role as s_role,
               s.company_id as s_company_id, s.schedule as s_schedule,
               (s.kind in ('gmail', 'graph') or s.config ? 'smtp') as s_can_send,
               (s.acknowledgement ->> 'enabled')::boolean as s_acknowledges
          from inbound_messages m left join mail_sources s on s.id = m.source_id
         where m.status = 'received' and m.next_attempt_at <= ${now.toISOString()}::timestamptz
               ${opts.id === undefined ? sql`` : sql`and m.id = ${opts.id}::uuid`}
         order by m.next_attempt_at
         limit ${opts.limit}
           for update of m skip locked`,
  );
}

/** The raw bytes of locked messages, each found by its primary key (however stale the statistics). */
async function rawOf(executor: Executor, ids: string[]): Promise<Map<string, Buffer | null>> {
  if (ids.length === 0) return new Map();
  const result = await executor.execute(
    sql`select x.id, m.raw from unnest(${pgArray(ids)}::uuid[]) x(id)
          cross join lateral (select raw from inbound_messages m where m.id = x.id limit 1) m`,
  );
  return new Map(
    rowsOf<{ id: string; raw: Buffer | Uint8Array | null }>(result).map((r) => [
      r.id,
      r.raw === null ? null : Buffer.isBuffer(r.raw) ? r.raw : Buffer.from(r.raw.buffer, r.raw.byteOffset, r.raw.byteLength),
    ]),
  );
}

function toClaimed(r: LockedRow, raw: Buffer | null): ClaimedMessage {
  return {
    id: r.id,
    sourceId: r.source_id,
    raw,
    receivedAt: new Date(r.received_at),
    attempts: Number(r.attempts),
    source:
      r.s_id === null
        ? null
        : {
            id: r.s_id,
            name: r.s_name,
            kind: r.s_kind,
            address: r.s_address,
            role: r.s_role,
            companyId: r.s_company_id,
            schedule: typeof r.s_schedule === "string" ? (JSON.parse(r.s_schedule) as unknown) : r.s_schedule,
            canSend: r.s_can_send === true,
            acknowledges: r.s_acknowledges,
          },
  };
}

export type Settlement = {
  status: InboundStatus;
  reason?: string | null;
  error?: string | null;
  ticketId?: string | null;
  duplicateOf?: string | null;
  messageId?: string | null;
  fromAddress?: string | null;
  subject?: string | null;
};

export async function settleInbound(executor: Executor, id: string, s: Settlement, now: Date): Promise<void> {
  await executor
    .update(inboundMessages)
    .set({
      status: s.status,
      reason: s.reason ?? null,
      error: s.error ?? null,
      ticketId: s.ticketId ?? null,
      duplicateOf: s.duplicateOf ?? null,
      messageId: s.messageId ?? null,
      fromAddress: s.fromAddress ?? null,
      subject: s.subject ?? null,
      attempts: sql`${inboundMessages.attempts} + 1`,
      processedAt: now,
    })
    .where(eq(inboundMessages.id, id));
}

/** A transient failure: keep it `received` and try again later. */
export async function retryInboundLater(executor: Executor, id: string, error: string, at: Date): Promise<void> {
  await executor
    .update(inboundMessages)
    .set({ attempts: sql`${inboundMessages.attempts} + 1`, error, nextAttemptAt: at })
    .where(eq(inboundMessages.id, id));
}

/**
 * "Last Processed" on the sources of a batch, in one statement. Written at most once a second, and
 * skipped while another transaction holds the row: every worker of a busy mailbox would otherwise
 * queue on this one row's lock until that transaction commits, and the other one writes nearly the
 * same time.
 */
export async function markSourcesProcessed(executor: Executor, sourceIds: string[], now: Date): Promise<void> {
  if (sourceIds.length === 0) return;
  const due = executor
    .select({ id: mailSources.id })
    .from(mailSources)
    .where(
      and(
        sql`${mailSources.id} = any(${pgArray(sourceIds)}::uuid[])`,
        sql`(${mailSources.lastProcessedAt} is null or ${mailSources.lastProcessedAt} < ${new Date(now.getTime() - 1000).toISOString()}::timestamptz)`,
      ),
    )
    // NO KEY UPDATE, like the update itself: a plain FOR UPDATE would block the foreign-key
    // checks of every ticket other workers insert for this source.
    .for("no key update", { skipLocked: true });
  await executor.update(mailSources).set({ lastProcessedAt: now }).where(inArray(mailSources.id, due));
}

/** Statuses that had no lasting effect, so running the pipeline again cannot act twice. */
export const REPROCESSABLE = ["failed", "unrouted", "ignored", "duplicate"] as const;

/** Puts a message back in the queue (reprocess); its raw bytes must still be there. */
export async function requeueInbound(executor: Executor, id: string, now: Date): Promise<boolean> {
  const rows = await executor
    .update(inboundMessages)
    .set({ status: "received", nextAttemptAt: now, error: null, reason: null, attempts: 0 })
    .where(and(eq(inboundMessages.id, id), sql`${inboundMessages.raw} is not null`, inArray(inboundMessages.status, [...REPROCESSABLE])))
    .returning({ id: inboundMessages.id });
  return rows.length > 0;
}

/** Outside its source's processing window: wait, still `received`, until the window opens. */
export async function holdInbound(executor: Executor, id: string, until: Date): Promise<void> {
  await executor.update(inboundMessages).set({ nextAttemptAt: until }).where(eq(inboundMessages.id, id));
}

/** After a schedule change: what waited for a window is due again, and is held anew if it must. */
export async function releaseHeldMessages(executor: Executor, sourceId: string, now: Date): Promise<void> {
  await executor
    .update(inboundMessages)
    .set({ nextAttemptAt: now })
    .where(and(eq(inboundMessages.sourceId, sourceId), eq(inboundMessages.status, "received"), sql`${inboundMessages.nextAttemptAt} > ${now.toISOString()}::timestamptz`));
}
