// The Graph source's durable work, in sync_requests, recorded before a signal is acknowledged:
//
//   graph_fetch      key = the message's immutable id: fetch its MIME ($value) into inbound_messages
//   graph_catch_up   key "delta": follow the delta query from the source's cursor
//   graph_lifecycle  key "<event>:<subscription id>": renew or re-create a subscription
//
// Work is leased, not locked: a claim pushes next_attempt_at forward, so a crashed worker's item
// comes due again by itself. Repeats fold into one row (unique on source, kind, key).
import { randomBytes } from "node:crypto";
import { and, eq, inArray, sql } from "drizzle-orm";
import { queryRows, type Executor } from "../../db/client.ts";
import { inboundMessages, syncRequests } from "../../db/schema.ts";

export const GRAPH_FETCH = "graph_fetch";
export const GRAPH_CATCH_UP = "graph_catch_up";
export const GRAPH_LIFECYCLE = "graph_lifecycle";
export const GRAPH_WORK_KINDS = [GRAPH_FETCH, GRAPH_CATCH_UP, GRAPH_LIFECYCLE] as const;
export type GraphWorkKind = (typeof GRAPH_WORK_KINDS)[number];

export type GraphWork = {
  id: string;
  sourceId: string;
  kind: GraphWorkKind;
  key: string;
  payload: Record<string, unknown>;
  attempts: number;
  /** For a fetch: the message was already stored for the source when the work was claimed. */
  alreadyStored: boolean;
};

/** Message ids to fetch; an id already stored for the source needs no request. Returns how many were new. */
export async function requestFetches(executor: Executor, sourceId: string, messageIds: string[], now: Date): Promise<number> {
  const ids = [...new Set(messageIds)];
  if (ids.length === 0) return 0;
  const stored = await executor
    .select({ id: inboundMessages.providerMessageId })
    .from(inboundMessages)
    .where(and(eq(inboundMessages.sourceId, sourceId), inArray(inboundMessages.providerMessageId, ids)));
  const known = new Set(stored.map((r) => r.id));
  const wanted = ids.filter((id) => !known.has(id));
  if (wanted.length === 0) return 0;
  const rows = await executor
    .insert(syncRequests)
    .values(wanted.map((key) => ({ sourceId, kind: GRAPH_FETCH, key, nextAttemptAt: now, createdAt: now })))
    .onConflictDoNothing({ target: [syncRequests.sourceId, syncRequests.kind, syncRequests.key] })
    .returning({ id: syncRequests.id });
  return rows.length;
}

/**
 * Fetch requests straight from notifications: one statement, no look-up first (the fetch worker
 * skips an id already stored), because Graph waits for our answer.
 */
export async function requestNotifiedFetches(executor: Executor, items: Array<{ sourceId: string; messageId: string }>, now: Date): Promise<void> {
  if (items.length === 0) return;
  await executor
    .insert(syncRequests)
    .values(items.map((i) => ({ sourceId: i.sourceId, kind: GRAPH_FETCH, key: i.messageId, nextAttemptAt: now, createdAt: now })))
    .onConflictDoNothing({ target: [syncRequests.sourceId, syncRequests.kind, syncRequests.key] });
}

/**
 * Asks for a catch-up or a lifecycle action. A request that is pending or running is asked again:
 * it becomes due now and its `requestedAt` changes, so a run that started earlier does not
 * complete it (see completeGraphWork) and it runs once more. With `unlessAsked`, a pending or
 * running request is left as it is instead.
 */
export async function requestRerunnable(
  executor: Executor,
  input: { sourceId: string; kind: typeof GRAPH_CATCH_UP | typeof GRAPH_LIFECYCLE; key: string; payload?: Record<string, unknown>; now: Date; unlessAsked?: boolean },
): Promise<void> {
  const payload = { ...input.payload, requestedAt: `${input.now.toISOString()}#${randomBytes(6).toString("hex")}` };
  const insert = executor
    .insert(syncRequests)
    .values({ sourceId: input.sourceId, kind: input.kind, key: input.key, payload, nextAttemptAt: input.now, createdAt: input.now });
  const target = [syncRequests.sourceId, syncRequests.kind, syncRequests.key];
  if (input.unlessAsked) {
    await insert.onConflictDoNothing({ target });
    return;
  }
  await insert.onConflictDoUpdate({
    target,
    set: {
      payload: sql`excluded.payload`,
      nextAttemptAt: sql`least(${syncRequests.nextAttemptAt}, excluded.next_attempt_at)`,
      attempts: 0,
    },
  });
}

export const requestCatchUp = (executor: Executor, sourceId: string, reason: string, now: Date) =>
  requestRerunnable(executor, { sourceId, kind: GRAPH_CATCH_UP, key: "delta", payload: { reason }, now });

/** A catch-up, unless one is already waiting or running for the source: that one is left as it is. */
export const requestCatchUpUnlessAsked = (executor: Executor, sourceId: string, reason: string, now: Date) =>
  requestRerunnable(executor, { sourceId, kind: GRAPH_CATCH_UP, key: "delta", payload: { reason }, now, unlessAsked: true });

/**
 * Claims up to `limit` due items of enabled, authorized Graph sources and leases them until
 * `leaseUntil`. `busySources`: sources whose catch-up or lifecycle work already runs in this
 * process; their fetches may still be claimed. `moreDue`: other work this process could take was
 * due too, beyond what was claimed.
 */
export async function claimGraphWork(
  executor: Executor,
  input: { now: Date; leaseUntil: Date; busySources?: string[]; limit: number },
): Promise<{ work: GraphWork[]; moreDue: boolean }> {
  const busy = input.busySources ?? [];
  const busyArray = busy.length > 0 ? sql`array[${sql.join(busy.map((id) => sql`${id}::uuid`), sql`, `)}]` : sql`'{}'::uuid[]`;
  const rows = await queryRows<{
    id: string;
    source_id: string;
    kind: GraphWorkKind;
    key: string;
    payload: Record<string, unknown>;
    attempts: number;
    already_stored: boolean;
    more_due: boolean;
  }>(
    executor,
    sql`
      with due as (
        select q.id
          from sync_requests q
          join mail_sources s on s.id = q.source_id
         where q.kind in (${GRAPH_FETCH}, ${GRAPH_CATCH_UP}, ${GRAPH_LIFECYCLE})
           and q.next_attempt_at <= ${input.now.toISOString()}::timestamptz
           and s.kind = 'graph'
           and s.status not in ('disabled', 'needs_reauth')
           and (q.kind = ${GRAPH_FETCH} or not q.source_id = any(${busyArray}))
         order by q.next_attempt_at
         limit ${input.limit}
         for update of q skip locked),
      claimed as (
        update sync_requests r
           set next_attempt_at = ${input.leaseUntil.toISOString()}::timestamptz, attempts = r.attempts + 1
          from due where r.id = due.id
        returning r.id, r.source_id, r.kind, r.key, r.payload, r.attempts)
      select claimed.*,
             claimed.kind = ${GRAPH_FETCH} and exists (
               select 1 from inbound_messages m where m.source_id = claimed.source_id and m.provider_message_id = claimed.key) as already_stored,
             exists (
               select 1 from sync_requests o
                 join mail_sources s on s.id = o.source_id
                where o.kind in (${GRAPH_FETCH}, ${GRAPH_CATCH_UP}, ${GRAPH_LIFECYCLE})
                  and o.next_attempt_at <= ${input.now.toISOString()}::timestamptz
                  and o.id not in (select id from due)
                  and s.kind = 'graph'
                  and s.status not in ('disabled', 'needs_reauth')
                  and (o.kind = ${GRAPH_FETCH} or not o.source_id = any(${busyArray}))) as more_due
        from claimed`,
  );
  const work = rows.map((row) => ({
    id: row.id,
    sourceId: row.source_id,
    kind: row.kind,
    key: row.key,
    payload: row.payload ?? {},
    attempts: row.attempts,
    alreadyStored: row.already_stored === true,
  }));
  return { work, moreDue: rows.some((row) => row.more_due === true) };
}

/** Claimed but not run: due again at once, the claim not counted as an attempt. */
export async function returnGraphWork(executor: Executor, work: GraphWork[], now: Date): Promise<void> {
  await executor
    .update(syncRequests)
    .set({ nextAttemptAt: now, attempts: sql`${syncRequests.attempts} - 1` })
    .where(inArray(syncRequests.id, work.map((w) => w.id)));
}

/** Fetches done (a fetch is never asked again while it runs: its key is the message). */
export async function completeGraphFetches(executor: Executor, work: GraphWork[]): Promise<void> {
  await executor.delete(syncRequests).where(inArray(syncRequests.id, work.map((w) => w.id)));
}

/** Done: removed, unless it was asked for again while it ran (then it stays, due now). */
export async function completeGraphWork(executor: Executor, work: GraphWork): Promise<void> {
  const requestedAt = work.payload.requestedAt;
  await executor
    .delete(syncRequests)
    .where(
      and(
        eq(syncRequests.id, work.id),
        typeof requestedAt === "string" ? sql`${syncRequests.payload}->>'requestedAt' = ${requestedAt}` : undefined,
      ),
    );
  // When nothing matched, it was asked for again meanwhile and requestRerunnable made it due now.
}

/** Not done: try again at `at`, keeping the error for the operator. */
export async function deferGraphWork(executor: Executor, work: GraphWork, error: string, at: Date): Promise<void> {
  await executor
    .update(syncRequests)
    .set({ nextAttemptAt: at, lastError: error.slice(0, 2000) })
    .where(eq(syncRequests.id, work.id));
}

/** After re-authorization: work that waited for it is due at once. */
export async function releaseGraphWork(executor: Executor, sourceId: string, now: Date): Promise<void> {
  await executor
    .update(syncRequests)
    .set({ nextAttemptAt: now })
    .where(and(eq(syncRequests.sourceId, sourceId), inArray(syncRequests.kind, [...GRAPH_WORK_KINDS]), sql`${syncRequests.nextAttemptAt} > ${now.toISOString()}::timestamptz`));
}
