// The sync worker: takes the due sync requests of up to CLAIM_SIZE mailboxes, runs their syncs
// side by side (never two of one mailbox at once in this process), and settles each request and
// source's status from its outcome. What concurrent syncs write goes to the database together: a
// claim takes every due mailbox up to CLAIM_SIZE with one statement, their sources are read with
// one, messages fetched at the same time are stored with one INSERT, and syncs ending at the same
// time move their cursors and remove their requests with one statement. At a trickle of pushes
// each sync pays these statements alone; as pushes overlap, they share them.
import type { Context } from "../../context.ts";
import { createGroupCommit, type GroupCommit } from "../../db/group-commit.ts";
import { findSources, type SourceRecord } from "../../db/sources.ts";
import { setSourceStatus } from "../source-status.ts";
import type { GmailFailure } from "./gmail-failure.ts";
import { openGmailSource } from "./gmail-source.ts";
import { createSessionCache, type SessionCache } from "./session-cache.ts";
import { createMessageStore } from "./store-messages.ts";
import { syncMailbox, type SyncPorts } from "./sync-mailbox.ts";
import { syncRetryDelayMs } from "./sync-backoff.ts";
import {
  claimGmailSyncs,
  deferGmailSync,
  dropGmailSync,
  extendGmailSyncLeases,
  finishGmailSyncs,
  SYNC_LEASE_MS,
  type ClaimedSync,
  type FinishedSync,
} from "./sync-requests.ts";

export type SyncWorker = { step(more?: () => void): Promise<boolean> };

/** Mailboxes one claim takes: enough to share the claim's statements in a burst, few enough that a loop's syncs end together. */
export const CLAIM_SIZE = 8;
/** Syncs finished with one statement at most. */
const MAX_FINISHES = 64;

type Settle = { ctx: Context; sessions: SessionCache; ports: SyncPorts; finish: GroupCommit<FinishedSync, boolean>; random: () => number };

export function createSyncWorker(ctx: Context, random: () => number = Math.random): SyncWorker {
  const syncing = new Set<string>();
  const sessions = createSessionCache(ctx);
  const settle: Settle = {
    ctx,
    sessions,
    ports: { session: sessions.session, store: createMessageStore(ctx) },
    finish: createGroupCommit({ write: (finished: FinishedSync[]) => finishGmailSyncs(ctx.db, finished, ctx.clock.now()) }, { maxItems: MAX_FINISHES }),
    random,
  };
  return {
    step: async (more) => {
      const { claims, moreDue } = await claimGmailSyncs(ctx.db, ctx.clock.now(), CLAIM_SIZE);
      if (claims.length === 0) return false;
      // More mailboxes wait: the next loop syncs them beside these.
      if (moreDue) more?.();
      const running: ClaimedSync[] = [];
      for (const claim of claims) {
        // Only after a lease ran out can this happen: let the running sync finish first.
        if (syncing.has(claim.sourceId)) await deferGmailSync(ctx.db, claim, new Date(ctx.clock.now().getTime() + 1000), "a sync of this mailbox was still running");
        else running.push(claim);
      }
      const inFlight = new Set(running);
      for (const claim of running) syncing.add(claim.sourceId);
      // A long sync (a big resync) keeps its lease, so no other worker starts the same mailbox.
      const heartbeat = setInterval(() => {
        if (inFlight.size === 0) return;
        extendGmailSyncLeases(ctx.db, [...inFlight], ctx.clock.now()).catch((err: unknown) => void (ctx.databaseOutage.report(err) || ctx.log.warn({ err }, "extending Gmail sync leases failed")));
      }, SYNC_LEASE_MS / 3);
      try {
        const rows = await findSources(ctx.db, running.map((claim) => claim.sourceId));
        const runs = running.map((claim) => runClaim(settle, claim, rows.get(claim.sourceId) ?? null).finally(() => inFlight.delete(claim)));
        // Every sync ends before the step does; a failure to record one (the database away) then reaches the loop.
        const failed = (await Promise.allSettled(runs)).find((r) => r.status === "rejected");
        if (failed) throw failed.reason;
      } finally {
        clearInterval(heartbeat);
        for (const claim of running) syncing.delete(claim.sourceId);
      }
      return true;
    },
  };
}

async function runClaim({ ctx, sessions, ports, finish, random }: Settle, claim: ClaimedSync, row: SourceRecord | null): Promise<void> {
  if (!row || row.kind !== "gmail" || row.status === "disabled" || row.status === "needs_reauth" || !hasTokens(ctx, row)) {
    // Its cursor has not moved: the sync after (re-)authorization or re-enabling catches up from there.
    sessions.forget(claim.sourceId);
    await dropGmailSync(ctx.db, claim);
    return;
  }
  const outcome = await syncMailbox(ctx, row, claim.payload, ports);
  if (outcome.kind !== "failed") {
    if (outcome.kind !== "up_to_date") ctx.log.debug({ sourceId: row.id, ...outcome }, "Gmail mailbox synced");
    const removed = await finish.submit({ claim, historyId: outcome.kind === "up_to_date" ? null : outcome.historyId });
    if (!removed) ctx.database.wake("gmail_sync");
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
