// The sync worker: takes a due sync request, runs one sync of that mailbox (never two at once in
// this process), and settles the request and the source's status from the outcome.
import type { Context } from "../../context.ts";
import { findSource, type SourceRecord } from "../../db/sources.ts";
import { setSourceStatus } from "../source-status.ts";
import type { GmailFailure } from "./gmail-failure.ts";
import { openGmailSource } from "./gmail-source.ts";
import { createSessionCache, type SessionCache } from "./session-cache.ts";
import { syncMailbox } from "./sync-mailbox.ts";
import { syncRetryDelayMs } from "./sync-backoff.ts";
import { claimGmailSync, completeGmailSync, deferGmailSync, dropGmailSync, extendGmailSyncLease, SYNC_LEASE_MS, type ClaimedSync } from "./sync-requests.ts";

export type SyncWorker = { step(more?: () => void): Promise<boolean> };

export function createSyncWorker(ctx: Context, random: () => number = Math.random): SyncWorker {
  const syncing = new Set<string>();
  const sessions = createSessionCache(ctx);
  return {
    step: async (more) => {
      const claim = await claimGmailSync(ctx.db, ctx.clock.now());
      if (!claim) return false;
      // Another mailbox waits too: the next loop syncs it beside this one.
      if (claim.moreDue) more?.();
      if (syncing.has(claim.sourceId)) {
        // Only after a lease ran out can this happen: let the running sync finish first.
        await deferGmailSync(ctx.db, claim, new Date(ctx.clock.now().getTime() + 1000), "a sync of this mailbox was still running");
        return true;
      }
      syncing.add(claim.sourceId);
      // A long sync (a big resync) keeps its lease, so no other worker starts the same mailbox.
      const heartbeat = setInterval(() => {
        extendGmailSyncLease(ctx.db, claim, ctx.clock.now()).catch((err: unknown) => void (ctx.databaseOutage.report(err) || ctx.log.warn({ err, sourceId: claim.sourceId }, "extending a Gmail sync lease failed")));
      }, SYNC_LEASE_MS / 3);
      try {
        await runClaim(ctx, claim, sessions, random);
      } finally {
        clearInterval(heartbeat);
        syncing.delete(claim.sourceId);
      }
      return true;
    },
  };
}

async function runClaim(ctx: Context, claim: ClaimedSync, sessions: SessionCache, random: () => number): Promise<void> {
  const row = await findSource(ctx.db, claim.sourceId);
  if (!row || row.kind !== "gmail" || row.status === "disabled" || row.status === "needs_reauth" || !hasTokens(ctx, row)) {
    // Its cursor has not moved: the sync after (re-)authorization or re-enabling catches up from there.
    sessions.forget(claim.sourceId);
    await dropGmailSync(ctx.db, claim);
    return;
  }
  const outcome = await syncMailbox(ctx, row, claim.payload, sessions.session);
  if (outcome.kind !== "failed") {
    if (outcome.kind !== "up_to_date") ctx.log.debug({ sourceId: row.id, ...outcome }, "Gmail mailbox synced");
    if (!(await completeGmailSync(ctx.db, claim, ctx.clock.now()))) ctx.database.wake("gmail_sync");
    if (row.status !== "connected") await setSourceStatus(ctx, row.id, { status: "connected" });
    return;
  }
  await settleFailure(ctx, row, claim, outcome.failure, sessions, random);
}

async function settleFailure(
  ctx: Context,
  row: SourceRecord,
  claim: ClaimedSync,
  failure: GmailFailure,
  sessions: SessionCache,
  random: () => number,
): Promise<void> {
  ctx.log.warn({ sourceId: row.id, attempts: claim.attempts, failure }, "Gmail sync failed");
  if (failure.kind === "reauth") {
    sessions.forget(row.id);
    await setSourceStatus(ctx, row.id, { status: "needs_reauth", error: { code: failure.code, message: failure.message } });
    await dropGmailSync(ctx.db, claim);
    return;
  }
  const retryAfterMs = failure.kind === "rate_limited" ? failure.retryAfterMs : undefined;
  const until = new Date(ctx.clock.now().getTime() + syncRetryDelayMs(claim.attempts, random, retryAfterMs));
  await deferGmailSync(ctx.db, claim, until, failure.message);
  // Rate limiting is Google pacing a working mailbox, not a failure; anything else shows at once,
  // and an unreachable Gmail is announced only once it has lasted (setSourceStatus).
  if (failure.kind === "rate_limited") return;
  await setSourceStatus(ctx, row.id, { status: "error", error: { code: failure.code, message: failure.message }, transient: failure.kind === "transient" });
}

function hasTokens(ctx: Context, row: SourceRecord): boolean {
  try {
    const tokens = openGmailSource(ctx, row).secrets.tokens;
    return Boolean(tokens?.refresh_token || tokens?.access_token);
  } catch (err) {
    ctx.log.error({ err, sourceId: row.id }, "the secrets of a Gmail source cannot be opened (was MAILGATE_SECRET_KEY changed?)");
    return false;
  }
}
