// One sync of one mailbox, from the STORED historyId (never a notification's): every page of
// history.list (messageAdded, INBOX) with the same startHistoryId, every new message stored, and
// only then the historyId of the last page answered, for the worker to move the cursor to. A 404
// means the stored historyId is older than Gmail keeps: a bounded resync lists the inbox since the
// mailbox was last caught up (never before the source was first connected) and takes a new
// baseline, so nothing is skipped and nothing is stored twice.
import type { gmail_v1 } from "googleapis";
import type { Context } from "../../context.ts";
import { connectedSince, type SourceRecord } from "../../db/sources.ts";
import { classifyGmailError, type GmailFailure } from "./gmail-failure.ts";
import type { GmailSession } from "./gmail-session.ts";
import { messagesToFetch } from "./history-plan.ts";
import { resyncQuery, resyncSince } from "./resync-window.ts";
import { storeMessages, unseenIds, type StoreMessage } from "./store-messages.ts";
import { historyIdOf, needsSync, type SyncPayload } from "./sync-decision.ts";

/** What a sync works with: the mailbox's Gmail session, and the store its messages go to. */
export type SyncPorts = { session(row: SourceRecord): GmailSession; store: StoreMessage };

/** `historyId`: where the cursor moves once the outcome is recorded; every message before it is stored. */
export type SyncOutcome =
  | { kind: "synced"; stored: number; historyId: string }
  | { kind: "resynced"; stored: number; historyId: string; since: Date | null }
  | { kind: "up_to_date" }
  | { kind: "failed"; failure: GmailFailure };

const PAGE_SIZE = 500;

export async function syncMailbox(ctx: Context, row: SourceRecord, payload: SyncPayload, ports: SyncPorts): Promise<SyncOutcome> {
  const cursor = historyIdOf(row.cursor);
  if (!needsSync(payload, cursor)) return { kind: "up_to_date" };
  let session: GmailSession | undefined;
  try {
    session = ports.session(row);
    if (!cursor) return await resync(ctx, session, ports.store);
    const history = await listHistory(session, cursor);
    if (history === "expired") {
      ctx.log.warn({ sourceId: row.id, historyId: cursor }, "Gmail history expired for the stored cursor; running a bounded resync");
      return await resync(ctx, session, ports.store);
    }
    const stored = await storeMessages(ctx, session, ports.store, messagesToFetch(history.records));
    return { kind: "synced", stored, historyId: history.historyId };
  } catch (err) {
    return { kind: "failed", failure: classifyGmailError(err) };
  } finally {
    await session?.flush();
  }
}

type History = { records: gmail_v1.Schema$History[]; historyId: string };

async function listHistory(session: GmailSession, startHistoryId: string): Promise<History | "expired"> {
  const records: gmail_v1.Schema$History[] = [];
  let pageToken: string | undefined;
  let historyId = startHistoryId;
  do {
    let data: gmail_v1.Schema$ListHistoryResponse;
    try {
      ({ data } = await session.gmail.users.history.list({
        userId: "me",
        startHistoryId,
        historyTypes: ["messageAdded"],
        labelId: "INBOX",
        maxResults: PAGE_SIZE,
        pageToken,
      }));
    } catch (err) {
      if (classifyGmailError(err).kind === "not_found") return "expired";
      throw err;
    }
    records.push(...(data.history ?? []));
    if (data.historyId) historyId = String(data.historyId);
    pageToken = data.nextPageToken ?? undefined;
  } while (pageToken);
  return { records, historyId };
}

async function resync(ctx: Context, session: GmailSession, store: StoreMessage): Promise<SyncOutcome> {
  const row = session.source.row;
  // The baseline is taken first: whatever arrives while the inbox is listed is in history after it.
  const profile = await session.gmail.users.getProfile({ userId: "me" });
  const baseline = String(profile.data.historyId);
  const caughtUpBefore = row.lastSyncAt !== null || row.lastProcessedAt !== null;
  let stored = 0;
  let since: Date | null = null;
  if (caughtUpBefore) {
    since = resyncSince({ lastSyncAt: row.lastSyncAt, lastProcessedAt: row.lastProcessedAt, connectedAt: connectedSince(row) }, ctx.clock.now());
    const listed = await listInbox(session, resyncQuery(since));
    // messages.list answers newest first; tickets are opened oldest first.
    stored = await storeMessages(ctx, session, store, (await unseenIds(ctx, row.id, listed)).reverse());
  }
  return { kind: "resynced", stored, historyId: baseline, since };
}

async function listInbox(session: GmailSession, q: string): Promise<string[]> {
  const ids: string[] = [];
  let pageToken: string | undefined;
  do {
    const { data } = await session.gmail.users.messages.list({ userId: "me", q, maxResults: PAGE_SIZE, pageToken, includeSpamTrash: false });
    for (const m of data.messages ?? []) if (m.id) ids.push(m.id);
    pageToken = data.nextPageToken ?? undefined;
  } while (pageToken);
  return ids;
}
