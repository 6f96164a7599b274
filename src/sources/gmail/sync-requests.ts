// The durable "sync this mailbox" work item (sync_requests, kind gmail_history, key history): one
// row per mailbox, so any number of notifications fold into it. A notification raises the row's
// historyId (compared as numbers) and replaces its token; a sync that finishes deletes the row
// only if the token is still the one it started with, so a notification that came during the sync
// makes it run once more. A claimed row is leased by moving next_attempt_at ahead. Claims and
// finishes take several mailboxes in one statement when several are waiting (sync-worker.ts).
import { randomBytes } from "node:crypto";
import { pgArray, queryRows, sql, type Executor } from "../../db/client.ts";
import { SYNC_REQUEST_KEY, SYNC_REQUEST_KIND } from "./gmail-constants.ts";
import type { SyncPayload } from "./sync-decision.ts";

/** A claimed request is leased this long, and the lease is extended while its sync runs; an instance that dies lets it lapse. */
export const SYNC_LEASE_MS = 60_000;

export type ClaimedSync = { id: string; sourceId: string; attempts: number; payload: SyncPayload & { token: string } };

/** `moreDue`: another mailbox's request was due too, beyond the ones claimed. */
export type ClaimedSyncs = { claims: ClaimedSync[]; moreDue: boolean };

type SyncAsk = { historyId?: bigint | string | null; force?: boolean; now: Date };

const payloadOf = (ask: SyncAsk) =>
  JSON.stringify({
    token: randomBytes(9).toString("base64url"),
    historyId: ask.historyId == null ? null : String(ask.historyId),
    force: ask.force ?? false,
  });

// A repeat folds into the waiting row: the larger historyId, force if either asked, a new token.
const FOLD = sql`on conflict (source_id, kind, key) do update set payload = jsonb_build_object(
      'token', excluded.payload->'token',
      'force', coalesce((sync_requests.payload->>'force')::boolean, false) or coalesce((excluded.payload->>'force')::boolean, false),
      'historyId', greatest((sync_requests.payload->>'historyId')::numeric, (excluded.payload->>'historyId')::numeric)::text)`;

export async function requestGmailSync(executor: Executor, input: SyncAsk & { sourceId: string }): Promise<void> {
  const now = input.now.toISOString();
  await executor.execute(sql`
    insert into sync_requests (source_id, kind, key, payload, next_attempt_at, created_at)
    values (${input.sourceId}::uuid, ${SYNC_REQUEST_KIND}, ${SYNC_REQUEST_KEY}, ${payloadOf(input)}::jsonb, ${now}::timestamptz, ${now}::timestamptz)
    ${FOLD}`);
}

/**
 * The same for notifications of several mailboxes in one statement, for every (not disabled)
 * Gmail source reading each mailbox; two of one mailbox fold first. Answers the mailboxes some
 * source reads.
 */
export async function requestGmailSyncForMailboxes(executor: Executor, notifications: { emailAddress: string; historyId: bigint }[], now: Date): Promise<Set<string>> {
  const at = now.toISOString();
  const asked = JSON.stringify(notifications.map((n) => ({ email: n.emailAddress, history_id: String(n.historyId) })));
  const rows = await queryRows<{ address: string }>(
    executor,
    sql`
      with n as (select email, max(history_id::numeric) as history_id
                   from jsonb_to_recordset(${asked}::jsonb) as n(email text, history_id text) group by email),
      asked as (
        insert into sync_requests (source_id, kind, key, payload, next_attempt_at, created_at)
        select s.id, ${SYNC_REQUEST_KIND}, ${SYNC_REQUEST_KEY},
               jsonb_build_object('token', ${randomBytes(9).toString("base64url")}::text, 'historyId', n.history_id::text, 'force', false),
               ${at}::timestamptz, ${at}::timestamptz
          from n join mail_sources s on s.kind = 'gmail' and s.address = n.email and s.status <> 'disabled'
        ${FOLD}
        returning source_id)
      select distinct s.address from asked join mail_sources s on s.id = asked.source_id`,
  );
  return new Set(rows.map((r) => r.address));
}

/** Takes up to `limit` due requests (of as many mailboxes), leasing each for SYNC_LEASE_MS. */
export async function claimGmailSyncs(executor: Executor, now: Date, limit: number): Promise<ClaimedSyncs> {
  const at = now.toISOString();
  const leaseUntil = new Date(now.getTime() + SYNC_LEASE_MS).toISOString();
  const rows = await queryRows<{ id: string; source_id: string; attempts: number; payload: ClaimedSync["payload"] | string; more_due: boolean }>(
    executor,
    sql`
      with due as (select id from sync_requests
                    where kind = ${SYNC_REQUEST_KIND} and next_attempt_at <= ${at}::timestamptz
                    order by next_attempt_at limit ${limit} for update skip locked),
      claimed as (update sync_requests r set next_attempt_at = ${leaseUntil}::timestamptz, attempts = r.attempts + 1
                    from due where r.id = due.id
                  returning r.id, r.source_id, r.attempts, r.payload)
      select claimed.*,
             exists (select 1 from sync_requests o
                      where o.kind = ${SYNC_REQUEST_KIND} and o.next_attempt_at <= ${at}::timestamptz
                        and o.id not in (select id from due)) as more_due
        from claimed`,
  );
  const claims = rows.map((row) => ({
    id: row.id,
    sourceId: row.source_id,
    attempts: row.attempts,
    payload: typeof row.payload === "string" ? (JSON.parse(row.payload) as ClaimedSync["payload"]) : row.payload,
  }));
  return { claims, moreDue: rows.some((row) => row.more_due === true) };
}

/** A sync that ended: the cursor it reached (null when it had nothing to read) and its request. */
export type FinishedSync = { claim: ClaimedSync; historyId: string | null };

/**
 * Finishes syncs in one statement: each mailbox's cursor moves to where its sync got (every
 * message before it is stored), and its request is removed unless a notification arrived
 * meanwhile; then it is due again at once. Answers, for each, whether its request was removed.
 */
export async function finishGmailSyncs(executor: Executor, finished: FinishedSync[], now: Date): Promise<boolean[]> {
  const at = now.toISOString();
  const items = finished.map((f) => ({ id: f.claim.id, source_id: f.claim.sourceId, token: f.claim.payload.token, history_id: f.historyId }));
  const removed = await queryRows<{ id: string }>(
    executor,
    sql`
      with f as (select * from jsonb_to_recordset(${JSON.stringify(items)}::jsonb) as f(id uuid, source_id uuid, token text, history_id text)),
      moved as (update mail_sources s set cursor = jsonb_build_object('historyId', f.history_id), last_sync_at = ${at}::timestamptz
                  from f where s.id = f.source_id and f.history_id is not null),
      done as (delete from sync_requests r using f where r.id = f.id and r.payload->>'token' = f.token returning r.id),
      again as (update sync_requests r set next_attempt_at = ${at}::timestamptz, attempts = 0, last_error = null
                  from f where r.id = f.id and r.id not in (select id from done))
      select id from done`,
  );
  const ids = new Set(removed.map((r) => r.id));
  return finished.map((f) => ids.has(f.claim.id));
}

export async function extendGmailSyncLeases(executor: Executor, claims: ClaimedSync[], now: Date): Promise<void> {
  const until = new Date(now.getTime() + SYNC_LEASE_MS).toISOString();
  // Only while still leased: a sync that just finished may have made the request due again.
  await executor.execute(sql`
    update sync_requests set next_attempt_at = ${until}::timestamptz
     where id = any(${pgArray(claims.map((c) => c.id))}::uuid[]) and next_attempt_at > ${now.toISOString()}::timestamptz and last_error is null`);
}

export async function deferGmailSync(executor: Executor, claim: ClaimedSync, until: Date, error: string): Promise<void> {
  await executor.execute(sql`
    update sync_requests set next_attempt_at = ${until.toISOString()}::timestamptz, last_error = ${error}
     where id = ${claim.id}::uuid`);
}

/** Drops a request that cannot run (source gone, disabled, waiting for re-authorization): its cursor has not moved. */
export async function dropGmailSync(executor: Executor, claim: ClaimedSync): Promise<void> {
  await executor.execute(sql`delete from sync_requests where id = ${claim.id}::uuid`);
}
