// The durable "sync this mailbox" work item (sync_requests, kind gmail_history, key history): one
// row per mailbox, so any number of notifications fold into it. A notification raises the row's
// historyId (compared as numbers) and replaces its token; a sync that finishes deletes the row
// only if the token is still the one it started with, so a notification that came during the sync
// makes it run once more. A claimed row is leased by moving next_attempt_at ahead.
import { randomBytes } from "node:crypto";
import { queryRows, sql, type Executor } from "../../db/client.ts";
import { SYNC_REQUEST_KEY, SYNC_REQUEST_KIND } from "./gmail-constants.ts";
import type { SyncPayload } from "./sync-decision.ts";

/** A claimed request is leased this long, and the lease is extended while its sync runs; an instance that dies lets it lapse. */
export const SYNC_LEASE_MS = 60_000;

/** `moreDue`: another mailbox's request was due too when this one was claimed. */
export type ClaimedSync = { id: string; sourceId: string; attempts: number; payload: SyncPayload & { token: string }; moreDue?: boolean };

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

/** The same, for every (not disabled) Gmail source reading this mailbox, in one statement; returns their ids. */
export async function requestGmailSyncForMailbox(executor: Executor, input: SyncAsk & { emailAddress: string }): Promise<string[]> {
  const now = input.now.toISOString();
  const rows = await queryRows<{ source_id: string }>(
    executor,
    sql`
      insert into sync_requests (source_id, kind, key, payload, next_attempt_at, created_at)
      select id, ${SYNC_REQUEST_KIND}, ${SYNC_REQUEST_KEY}, ${payloadOf(input)}::jsonb, ${now}::timestamptz, ${now}::timestamptz
        from mail_sources where kind = 'gmail' and address = ${input.emailAddress} and status <> 'disabled'
      ${FOLD}
      returning source_id`,
  );
  return rows.map((r) => r.source_id);
}

/** Takes the next due request (any mailbox), leasing it for SYNC_LEASE_MS. */
export async function claimGmailSync(executor: Executor, now: Date): Promise<ClaimedSync | null> {
  const at = now.toISOString();
  const leaseUntil = new Date(now.getTime() + SYNC_LEASE_MS).toISOString();
  const rows = await queryRows<{ id: string; source_id: string; attempts: number; payload: ClaimedSync["payload"] | string; more_due: boolean }>(
    executor,
    sql`
      update sync_requests r set next_attempt_at = ${leaseUntil}::timestamptz, attempts = r.attempts + 1
       where r.id = (select id from sync_requests
                      where kind = ${SYNC_REQUEST_KIND} and next_attempt_at <= ${at}::timestamptz
                      order by next_attempt_at limit 1 for update skip locked)
      returning r.id, r.source_id, r.attempts, r.payload,
                exists (select 1 from sync_requests o
                         where o.kind = ${SYNC_REQUEST_KIND} and o.next_attempt_at <= ${at}::timestamptz and o.id <> r.id) as more_due`,
  );
  const row = rows[0];
  if (!row) return null;
  const payload = typeof row.payload === "string" ? (JSON.parse(row.payload) as ClaimedSync["payload"]) : row.payload;
  return { id: row.id, sourceId: row.source_id, attempts: row.attempts, payload, moreDue: row.more_due === true };
}

/** Done: removes the request unless a notification arrived meanwhile; then it is due again at once. Returns true when removed. */
export async function completeGmailSync(executor: Executor, claim: ClaimedSync, now: Date): Promise<boolean> {
  const deleted = await queryRows<{ id: string }>(
    executor,
    sql`delete from sync_requests where id = ${claim.id}::uuid and payload->>'token' = ${claim.payload.token} returning id`,
  );
  if (deleted.length > 0) return true;
  await executor.execute(sql`
    update sync_requests set next_attempt_at = ${now.toISOString()}::timestamptz, attempts = 0, last_error = null
     where id = ${claim.id}::uuid`);
  return false;
}

export async function extendGmailSyncLease(executor: Executor, claim: ClaimedSync, now: Date): Promise<void> {
  const until = new Date(now.getTime() + SYNC_LEASE_MS).toISOString();
  // Only while still leased: a sync that just finished may have made the request due again.
  await executor.execute(sql`
    update sync_requests set next_attempt_at = ${until}::timestamptz
     where id = ${claim.id}::uuid and next_attempt_at > ${now.toISOString()}::timestamptz and last_error is null`);
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
