// What one sync of an IMAP folder fetches, and where the cursor may move after each step.
//
// Glossary
//   cursor        {uidValidity, lastUid}: every message of the folder up to lastUid is stored
//   incremental   the folder is the one the cursor describes: fetch UIDs above lastUid
//   scan          no cursor yet, or UIDVALIDITY changed (the UIDs were renumbered): look at the
//                 whole folder, skipping mail older than the source itself (its history).
//                 A rescan stores the same emails under new provider ids; the pipeline's
//                 Message-ID dedupe keeps them from becoming second tickets.
import type { ImapCursor } from "../source-config.ts";

export type MailboxState = { uidValidity: string; exists: number };

export type SyncPlan = {
  uidValidity: string;
  /** Messages at or below this UID are already stored. */
  afterUid: number;
  /** The UID FETCH range that lists candidates; null when the folder is empty. */
  range: string | null;
  /** Scan only: mail the server received before this is the mailbox's history, not ingested. */
  since: Date | null;
  reason: "incremental" | "first_sync" | "uidvalidity_changed";
};

/** Server and mailgate clocks disagree; a scan reaches this far before the source was created. */
export const SCAN_CLOCK_SKEW_MS = 10 * 60_000;

export function planSync(cursor: ImapCursor | null, mailbox: MailboxState, sourceCreatedAt: Date): SyncPlan {
  if (cursor !== null && cursor.uidValidity === mailbox.uidValidity) {
    return {
      uidValidity: mailbox.uidValidity,
      afterUid: cursor.lastUid,
      // "n:*" always names at least the last message, even when its UID is below n: callers
      // filter on afterUid (planBatches does).
      range: mailbox.exists > 0 ? `${cursor.lastUid + 1}:*` : null,
      since: null,
      reason: "incremental",
    };
  }
  return {
    uidValidity: mailbox.uidValidity,
    afterUid: 0,
    range: mailbox.exists > 0 ? "1:*" : null,
    since: new Date(sourceCreatedAt.getTime() - SCAN_CLOCK_SKEW_MS),
    reason: cursor === null ? "first_sync" : "uidvalidity_changed",
  };
}

/** One message as the listing FETCH (UID, RFC822.SIZE, INTERNALDATE) describes it. */
export type ListedMessage = { uid: number; size: number | null; internalDate: Date | null };

export type SyncBatch = { uids: number[]; cursorAfter: ImapCursor };
export type BatchPlan = {
  /** Fetched, stored and post-processed in order; the cursor moves after each. */
  batches: SyncBatch[];
  /** Over the size limit: recorded as errors and passed over. */
  tooLarge: ListedMessage[];
  /** Where the cursor stands once every batch is done (also when there is none). */
  finalCursor: ImapCursor;
};

export type BatchLimits = {
  /** Larger messages are not fetched at all. */
  maxBytes: number;
  /** At most this many messages per batch... */
  batchSize: number;
  /** ...and at most this many bytes (a bigger message gets a batch of its own). */
  batchBytes: number;
};

export function planBatches(plan: SyncPlan, listed: readonly ListedMessage[], opts: BatchLimits): BatchPlan {
  const byUid = new Map<number, ListedMessage>();
  for (const m of listed) if (m.uid > plan.afterUid) byUid.set(m.uid, m);
  const fresh = [...byUid.values()].sort((a, b) => a.uid - b.uid);
  const since = plan.since;
  const wanted = since === null ? fresh : fresh.filter((m) => m.internalDate === null || m.internalDate.getTime() >= since.getTime());
  const tooLarge = wanted.filter((m) => m.size !== null && m.size > opts.maxBytes);
  const fetchable = wanted.filter((m) => m.size === null || m.size <= opts.maxBytes);

  const lastUid = fresh.reduce((max, m) => Math.max(max, m.uid), plan.afterUid);
  const finalCursor = { uidValidity: plan.uidValidity, lastUid };
  const groups = groupBySizeAndCount(fetchable, opts);
  // A batch's cursor covers everything below its last UID: skipped messages need no work.
  const batches = groups.map((uids, i) => ({
    uids,
    cursorAfter: i === groups.length - 1 ? finalCursor : { uidValidity: plan.uidValidity, lastUid: uids[uids.length - 1]! },
  }));
  return { batches, tooLarge, finalCursor };
}

function groupBySizeAndCount(messages: readonly ListedMessage[], opts: BatchLimits): number[][] {
  const groups: number[][] = [];
  let current: number[] = [];
  let bytes = 0;
  for (const m of messages) {
    const size = m.size ?? 0;
    if (current.length > 0 && (current.length >= opts.batchSize || bytes + size > opts.batchBytes)) {
      groups.push(current);
      current = [];
      bytes = 0;
    }
    current.push(m.uid);
    bytes += size;
  }
  if (current.length > 0) groups.push(current);
  return groups;
}

/** The provider id an IMAP message is stored under: unique per folder incarnation. */
export const providerMessageId = (uidValidity: string, uid: number) => `${uidValidity}:${uid}`;

const EMPTY_EXISTS_RETRIES_MS = [250, 1_000, 3_000, 10_000];

/**
 * Some servers announce EXISTS before the message can be fetched. When a sync woken by EXISTS
 * found nothing new, it is tried again after this delay; null once the retries are spent (the
 * safety-net sync still comes).
 */
export function emptyExistsRetryDelayMs(retry: number): number | null {
  return EMPTY_EXISTS_RETRIES_MS[retry] ?? null;
}

/**
 * While mail keeps arriving, a sync follows the last one every `everyMs` without waiting for
 * EXISTS, until `forMs` have passed without new mail. An IDLE client hears of new mail late while
 * a folder is busy (Dovecot coalesces its IDLE notices), whereas any command sees the folder as it
 * is. The syncs are also paced `everyMs` apart while they find mail: each takes what arrived since
 * the last, a batch the pipeline handles well, instead of one or two messages per EXISTS. The cost
 * is a few listing FETCHes after each arrival.
 */
export const FOLLOW_UP = { everyMs: 100, forMs: 500 };

/** When to sync again without being asked; null when the folder has been quiet long enough. */
export function followUpDelayMs(msSinceMailFound: number | null): number | null {
  return msSinceMailFound !== null && msSinceMailFound < FOLLOW_UP.forMs ? FOLLOW_UP.everyMs : null;
}
