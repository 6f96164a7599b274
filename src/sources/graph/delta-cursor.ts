// The Graph source's cursor in mail_sources.cursor, and where a catch-up starts from it.
//
//   deltaLink   Graph's link to "everything created since the last catch-up" (absolute https URL)
//   nextLink    set while a catch-up is between pages, so a crash resumes on the same page
//   roundStartedAt  with nextLink: when the round began, the watermark it will leave behind
//   watermark   when the last complete catch-up started: a resync after a lost delta token, or
//               the first catch-up after authorization, asks for mail received since then
//
// The rule: a resync reaches back to the watermark less the margin, so after a re-authorization the
// mail that arrived while the source needed it is ticketed, but never before the first
// authorization (connectedAt), so mail already in the Inbox then never is.
import { INBOX_MESSAGES } from "./graph-endpoints.ts";

export type GraphCursor = { deltaLink?: string; nextLink?: string; roundStartedAt?: string; watermark?: string };

/** How far before the watermark a resync reaches: clocks differ, and Graph stamps receivedDateTime. */
export const RESYNC_MARGIN_MS = 15 * 60_000;
/** The bound of a resync: never more than this much mail history is listed again. */
export const RESYNC_MAX_MS = 30 * 24 * 60 * 60_000;

export function parseGraphCursor(value: unknown): GraphCursor {
  if (!value || typeof value !== "object") return {};
  const v = value as Record<string, unknown>;
  const str = (x: unknown) => (typeof x === "string" && x.length > 0 ? x : undefined);
  const cursor: GraphCursor = {};
  const deltaLink = str(v.deltaLink);
  const nextLink = str(v.nextLink);
  const watermark = str(v.watermark);
  const roundStartedAt = str(v.roundStartedAt);
  if (deltaLink) cursor.deltaLink = deltaLink;
  if (nextLink) cursor.nextLink = nextLink;
  if (nextLink && roundStartedAt && !Number.isNaN(Date.parse(roundStartedAt))) cursor.roundStartedAt = roundStartedAt;
  if (watermark && !Number.isNaN(Date.parse(watermark))) cursor.watermark = watermark;
  return cursor;
}

export type CatchUpStart = { kind: "link"; url: string } | { kind: "since"; since: Date };

/** Resume a page, else follow the deltaLink, else list the Inbox from the watermark (bounded). */
export function catchUpStart(cursor: GraphCursor, now: Date, connectedAt: Date): CatchUpStart {
  if (cursor.nextLink) return { kind: "link", url: cursor.nextLink };
  if (cursor.deltaLink) return { kind: "link", url: cursor.deltaLink };
  return { kind: "since", since: resyncSince(cursor, now, connectedAt) };
}

/**
 * The bounded window of a resync: from the watermark (less a margin), at most RESYNC_MAX_MS back,
 * and never before the source was first connected.
 */
export function resyncSince(cursor: GraphCursor, now: Date, connectedAt: Date): Date {
  const bound = Math.max(now.getTime() - RESYNC_MAX_MS, connectedAt.getTime());
  const mark = cursor.watermark ? Date.parse(cursor.watermark) - RESYNC_MARGIN_MS : now.getTime() - RESYNC_MARGIN_MS;
  return new Date(Math.max(bound, Math.min(mark, now.getTime())));
}

/** The first request of a delta round that starts from a time: only created mail, newest state. */
export function initialDeltaPath(since: Date): string {
  const filter = `receivedDateTime ge ${since.toISOString().replace(/\.\d{3}Z$/, "Z")}`;
  return `${INBOX_MESSAGES}/delta?changeType=created&$select=id,receivedDateTime&$filter=${encodeURIComponent(filter)}`;
}

/**
 * The cursor after one page: mid-round it holds the nextLink (and when the round began); at the
 * end, the new deltaLink, and the round's start as the watermark. `now` starts a round when the
 * cursor shows none in progress.
 */
export function cursorAfterPage(cursor: GraphCursor, page: { nextLink?: string; deltaLink?: string }, now: Date): GraphCursor {
  const roundStartedAt = cursor.nextLink && cursor.roundStartedAt ? cursor.roundStartedAt : now.toISOString();
  if (page.nextLink) return { ...withoutNext(cursor), nextLink: page.nextLink, roundStartedAt };
  if (page.deltaLink) return { deltaLink: page.deltaLink, watermark: roundStartedAt };
  return withoutNext(cursor);
}

/** The cursor once Graph lost the delta state: the links go, the watermark stays for the resync. */
export function cursorForResync(cursor: GraphCursor): GraphCursor {
  return cursor.watermark ? { watermark: cursor.watermark } : {};
}

function withoutNext(cursor: GraphCursor): GraphCursor {
  const { nextLink: _next, roundStartedAt: _started, ...rest } = cursor;
  return rest;
}
