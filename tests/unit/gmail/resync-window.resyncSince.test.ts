import { describe, expect, it } from "vitest";
import { RESYNC_MARGIN_MS, resyncQuery, resyncSince } from "../../../src/sources/gmail/resync-window.ts";

const now = new Date("2026-11-23T12:00:00Z");

describe("resyncSince", () => {
  it("starts a margin before the earlier of the last sync and the last processed message", () => {
    const lastSyncAt = new Date("2026-11-20T10:00:00Z");
    const lastProcessedAt = new Date("2026-11-20T09:00:00Z");
    expect(resyncSince({ lastSyncAt, lastProcessedAt }, now)).toEqual(new Date(lastProcessedAt.getTime() - RESYNC_MARGIN_MS));
  });

  it("uses whichever of the two is known", () => {
    const lastSyncAt = new Date("2026-11-22T00:00:00Z");
    expect(resyncSince({ lastSyncAt, lastProcessedAt: null }, now)).toEqual(new Date(lastSyncAt.getTime() - RESYNC_MARGIN_MS));
  });

  it("with neither known, reaches back only the margin", () => {
    expect(resyncSince({ lastSyncAt: null, lastProcessedAt: null }, now)).toEqual(new Date(now.getTime() - RESYNC_MARGIN_MS));
  });

  it("writes Gmail's search with epoch seconds", () => {
    expect(resyncQuery(new Date("2026-11-23T11:00:00.900Z"))).toBe("in:inbox after:1795431600");
  });
});
