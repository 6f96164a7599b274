import { describe, expect, it } from "vitest";
import {
  catchUpStart,
  cursorAfterPage,
  cursorForResync,
  initialDeltaPath,
  parseGraphCursor,
  RESYNC_MARGIN_MS,
  RESYNC_MAX_MS,
  resyncSince,
} from "../../../src/sources/graph/delta-cursor.ts";

const now = new Date("2026-03-01T10:00:00.000Z");
const DELTA = "https://graph.microsoft.com/v1.0/me/mailFolders('Inbox')/messages/delta?$deltatoken=d1";
const NEXT = "https://graph.microsoft.com/v1.0/me/mailFolders('Inbox')/messages/delta?$skiptoken=s1";
const connectedLongAgo = new Date("2025-01-01T00:00:00.000Z");

describe("parseGraphCursor", () => {
  it("keeps the known string fields and drops anything else", () => {
    expect(parseGraphCursor({ deltaLink: DELTA, watermark: "2026-01-01T00:00:00Z", junk: 1 })).toEqual({ deltaLink: DELTA, watermark: "2026-01-01T00:00:00Z" });
    expect(parseGraphCursor(null)).toEqual({});
    expect(parseGraphCursor({ watermark: "not a date" })).toEqual({});
  });
});

describe("catchUpStart", () => {
  it("resumes an unfinished page before following the deltaLink", () => {
    expect(catchUpStart({ deltaLink: DELTA, nextLink: NEXT }, now, connectedLongAgo)).toEqual({ kind: "link", url: NEXT });
    expect(catchUpStart({ deltaLink: DELTA }, now, connectedLongAgo)).toEqual({ kind: "link", url: DELTA });
  });

  it("When there is no link, then it starts from the watermark less the margin", () => {
    expect(catchUpStart({ watermark: "2026-03-01T09:00:00.000Z" }, now, connectedLongAgo)).toEqual({
      kind: "since",
      since: new Date(Date.parse("2026-03-01T09:00:00.000Z") - RESYNC_MARGIN_MS),
    });
  });
});

describe("resyncSince", () => {
  it("never reaches further back than the bound", () => {
    expect(resyncSince({ watermark: "2020-01-01T00:00:00.000Z" }, now, new Date(0)).getTime()).toBe(now.getTime() - RESYNC_MAX_MS);
  });

  it("without a watermark, starts just before now", () => {
    expect(resyncSince({}, now, connectedLongAgo).getTime()).toBe(now.getTime() - RESYNC_MARGIN_MS);
  });

  it("When the first catch-up or a lost delta state comes within the margin of the first authorization, then it starts at the authorization", () => {
    const connectedAt = new Date("2026-03-01T09:55:00.000Z");
    expect(resyncSince({ watermark: connectedAt.toISOString() }, now, connectedAt)).toEqual(connectedAt);
    expect(resyncSince({}, now, connectedAt)).toEqual(connectedAt);
    expect(catchUpStart({ watermark: connectedAt.toISOString() }, now, connectedAt)).toEqual({ kind: "since", since: connectedAt });
  });

  it("When a re-authorized source resyncs, then it reaches back to the watermark (the needs_reauth gap) but not before the first authorization", () => {
    const connectedAt = new Date("2026-03-01T07:00:00.000Z");
    expect(resyncSince({ watermark: "2026-03-01T07:05:00.000Z" }, now, connectedAt)).toEqual(connectedAt);
    expect(resyncSince({ watermark: "2026-03-01T08:00:00.000Z" }, now, connectedAt)).toEqual(new Date(Date.parse("2026-03-01T08:00:00.000Z") - RESYNC_MARGIN_MS));
  });
});

describe("initialDeltaPath", () => {
  it("asks for created Inbox messages received since a time, in whole seconds", () => {
    const path = initialDeltaPath(new Date("2026-03-01T09:45:00.123Z"));
    expect(path).toBe(
      "me/mailFolders('Inbox')/messages/delta?changeType=created&$select=id,receivedDateTime&$filter=receivedDateTime%20ge%202026-03-01T09%3A45%3A00Z",
    );
  });
});

describe("cursorAfterPage", () => {
  it("holds the nextLink and the round's start while pages remain", () => {
    const mid = cursorAfterPage({ deltaLink: DELTA, watermark: "2026-02-01T00:00:00.000Z" }, { nextLink: NEXT }, now);
    expect(mid).toEqual({ deltaLink: DELTA, watermark: "2026-02-01T00:00:00.000Z", nextLink: NEXT, roundStartedAt: now.toISOString() });
    const later = new Date(now.getTime() + 60_000);
    expect(cursorAfterPage(mid, { nextLink: `${NEXT}2` }, later).roundStartedAt).toBe(now.toISOString());
  });

  it("ends the round with the new deltaLink and the round's start as the watermark", () => {
    const mid = { nextLink: NEXT, roundStartedAt: now.toISOString() };
    expect(cursorAfterPage(mid, { deltaLink: `${DELTA}2` }, new Date(now.getTime() + 5000))).toEqual({
      deltaLink: `${DELTA}2`,
      watermark: now.toISOString(),
    });
  });
});

describe("cursorForResync", () => {
  it("drops the links Graph no longer knows and keeps the watermark", () => {
    expect(cursorForResync({ deltaLink: DELTA, nextLink: NEXT, watermark: "2026-02-01T00:00:00.000Z" })).toEqual({ watermark: "2026-02-01T00:00:00.000Z" });
  });
});
