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

describe("parseGraphCursor", () => {
  it("keeps the known string fields and drops anything else", () => {
    expect(parseGraphCursor({ deltaLink: DELTA, watermark: "2026-01-01T00:00:00Z", junk: 1 })).toEqual({ deltaLink: DELTA, watermark: "2026-01-01T00:00:00Z" });
    expect(parseGraphCursor(null)).toEqual({});
    expect(parseGraphCursor({ watermark: "not a date" })).toEqual({});
  });
});

describe("catchUpStart", () => {
  it("resumes an unfinished page before following the deltaLink", () => {
    expect(catchUpStart({ deltaLink: DELTA, nextLink: NEXT }, now)).toEqual({ kind: "link", url: NEXT });
    expect(catchUpStart({ deltaLink: DELTA }, now)).toEqual({ kind: "link", url: DELTA });
  });

  it("When there is no link, then it starts from the watermark less the margin", () => {
    expect(catchUpStart({ watermark: "2026-03-01T09:00:00.000Z" }, now)).toEqual({
      kind: "since",
      since: new Date(Date.parse("2026-03-01T09:00:00.000Z") - RESYNC_MARGIN_MS),
    });
  });
});

describe("resyncSince", () => {
  it("never reaches further back than the bound", () => {
    expect(resyncSince({ watermark: "2020-01-01T00:00:00.000Z" }, now).getTime()).toBe(now.getTime() - RESYNC_MAX_MS);
  });

  it("without a watermark, starts just before now", () => {
    expect(resyncSince({}, now).getTime()).toBe(now.getTime() - RESYNC_MARGIN_MS);
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
