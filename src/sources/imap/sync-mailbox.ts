// One sync of a source's folder over an open connection: list what is above the cursor, fetch
// it in batches, store each batch's raw messages, post-process the batch, then move the cursor past it.
// Every step is idempotent, so a sync cut short anywhere is simply run again.
import type { FetchMessageObject, ImapFlow } from "imapflow";
import type { Context } from "../../context.ts";
import { storeInboundMany } from "../../db/inbound-store.ts";

import { markSynced } from "../source-status.ts";
import { loadCursor, saveCursor } from "./imap-cursor-store.ts";
import type { ImapSource } from "./imap-source.ts";
import { isServerRefusal, postProcess } from "./post-process.ts";
import { toSequenceSet } from "./sequence-set.ts";
import { planBatches, planSync, providerMessageId, type ListedMessage } from "./sync-plan.ts";
import { recordError } from "../../db/error-log.ts";

/**
 * Bounds what one UID FETCH holds in memory before it is stored (the bytes are the bound that
 * matters). A burst's first clump is a few hundred messages at once, and each batch costs round
 * trips (FETCH, the store, the cursor) that wait on an event loop busy with the pipeline, so a
 * clump is stored in a few large batches rather than many small ones (bench/README.md).
 */
export const FETCH_BATCH = { batchSize: 200, batchBytes: 32 * 1024 * 1024 };

export type SyncResult = { reason: "incremental" | "first_sync" | "uidvalidity_changed"; listed: number; stored: number; created: number };

export async function syncMailbox(ctx: Context, source: ImapSource, client: ImapFlow): Promise<SyncResult> {
  const lock = await client.getMailboxLock(source.config.folder);
  try {
    const mailbox = client.mailbox;
    if (!mailbox) throw new Error(`folder ${source.config.folder} is not open`);
    const cursor = await loadCursor(ctx.db, source.id);
    const plan = planSync(cursor, { uidValidity: String(mailbox.uidValidity), exists: mailbox.exists }, source.createdAt);
    if (plan.reason === "uidvalidity_changed") {
      ctx.log.warn({ sourceId: source.id, from: cursor?.uidValidity, to: plan.uidValidity }, "UIDVALIDITY changed; rescanning the folder");
    }
    const listed = plan.range === null ? [] : await listMessages(client, plan.range);
    const work = planBatches(plan, listed, { maxBytes: ctx.config.maxMessageBytes, ...FETCH_BATCH });
    if (work.tooLarge.length > 0) await recordTooLarge(ctx, source, plan.uidValidity, work.tooLarge);

    let stored = 0;
    let created = 0;
    for (const batch of work.batches) {
      const fetched: { uid: number; providerMessageId: string; raw: Buffer }[] = [];
      for await (const message of client.fetch(toSequenceSet(batch.uids), { uid: true, source: true }, { uid: true })) {
        // A UID that vanished between listing and fetching was expunged: nothing to store.
        if (!message.source || message.uid <= plan.afterUid) continue;
        fetched.push({ uid: message.uid, providerMessageId: providerMessageId(plan.uidValidity, message.uid), raw: message.source });
      }
      // The whole batch in one statement, before post-processing and before the cursor moves.
      const result = await storeInboundMany(ctx.db, source.id, fetched, ctx.clock.now());
      stored += fetched.length;
      created += result.created;
      if (result.created > 0) ctx.database.wake("inbound");
      await postProcessBatch(ctx, source, client, fetched.map((m) => m.uid));
      await saveCursor(ctx.db, source.id, batch.cursorAfter, ctx.clock.now());
    }
    const moved = cursor?.uidValidity !== work.finalCursor.uidValidity || cursor.lastUid !== work.finalCursor.lastUid;
    if (work.batches.length === 0 && moved) await saveCursor(ctx.db, source.id, work.finalCursor, ctx.clock.now());
    else if (work.batches.length === 0) await markSynced(ctx, source.id);
    return { reason: plan.reason, listed: listed.filter((m) => m.uid > plan.afterUid).length, stored, created };
  } finally {
    lock.release();
  }
}

async function listMessages(client: ImapFlow, range: string): Promise<ListedMessage[]> {
  const listed: ListedMessage[] = [];
  for await (const m of client.fetch(range, { uid: true, size: true, internalDate: true }, { uid: true })) {
    listed.push({ uid: m.uid, size: m.size ?? null, internalDate: internalDateOf(m) });
  }
  return listed;
}

function internalDateOf(m: FetchMessageObject): Date | null {
  const value: unknown = m.internalDate;
  if (value instanceof Date) return value;
  if (typeof value === "string") {
    const date = new Date(value);
    return Number.isNaN(date.getTime()) ? null : date;
  }
  return null;
}

async function postProcessBatch(ctx: Context, source: ImapSource, client: ImapFlow, uids: number[]): Promise<void> {
  try {
    await postProcess(client, source.config.postProcess, uids);
  } catch (err) {
    // A refused STORE or MOVE must not hold the cursor back: the mail is safely stored. A lost
    // connection does: the next session fetches the batch again (a no-op) and retries.
    if (!isServerRefusal(err)) throw err;
    const message = `Post-processing (${source.config.postProcess.action}) failed for ${uids.length} message(s) in ${source.config.folder}: ${(err as Error).message}`;
    ctx.log.warn({ err, sourceId: source.id }, message);
    await recordError(ctx.db, { at: ctx.clock.now(), sourceId: source.id, kind: "post_process_failed", message, details: { uids } });
  }
}

async function recordTooLarge(ctx: Context, source: ImapSource, uidValidity: string, messages: ListedMessage[]): Promise<void> {
  const limit = ctx.config.maxMessageBytes;
  await recordError(ctx.db, 
    messages.map((m) => ({
      at: ctx.clock.now(),
      sourceId: source.id,
      kind: "message_too_large",
      message: `Message UID ${m.uid} in ${source.config.folder} is ${m.size} bytes, over the limit of ${limit} bytes; it was left on the server. Raise MAX_MESSAGE_BYTES to ingest it.`,
      details: { providerMessageId: providerMessageId(uidValidity, m.uid), size: m.size, limit },
    })),
  );
}
