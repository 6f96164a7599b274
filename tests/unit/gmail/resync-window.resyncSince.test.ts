import { describe, expect, it } from "vitest";
import { RESYNC_MARGIN_MS, resyncQuery, resyncSince } from "../../../src/sources/gmail/resync-window.ts";

const now = new Date("2026-11-23T12:00:00Z");
const connectedLongAgo = new Date("2026-01-01T00:00:00Z");

describe("resyncSince", () => {
  it("starts a margin before the earlier of the last sync and the last processed message", () => {
    const lastSyncAt = new Date("2026-11-20T10:00:00Z");
    const lastProcessedAt = new Date("2026-11-20T09:00:00Z");
    expect(resyncSince({ lastSyncAt, lastProcessedAt, connectedAt: connectedLongAgo }, now)).toEqual(
      new Date(lastProcessedAt.getTime() - RESYNC_MARGIN_MS),
    );
  });

  it("uses whichever of the two is known", () => {
    const lastSyncAt = new Date("2026-11-22T00:00:00Z");
    expect(resyncSince({ lastSyncAt, lastProcessedAt: null, connectedAt: connectedLongAgo }, now)).toEqual(
      new Date(lastSyncAt.getTime() - RESYNC_MARGIN_MS),
    );
  });

  it("with neither known, reaches back only the margin", () => {
    expect(resyncSince({ lastSyncAt: null, lastProcessedAt: null, connectedAt: connectedLongAgo }, now)).toEqual(
      new Date(now.getTime() - RESYNC_MARGIN_MS),
    );
  });

  it("When the 404 comes within the margin of the first connection, then the window starts at the connection, not before it", () => {
    const connectedAt = new Date("2026-11-23T11:40:00Z");
    const lastSyncAt = new Date("2026-11-23T11:40:01Z"); // the baseline cursor taken at connection
    expect(resyncSince({ lastSyncAt, lastProcessedAt: null, connectedAt }, now)).toEqual(connectedAt);
    expect(resyncSince({ lastSyncAt: null, lastProcessedAt: null, connectedAt }, now)).toEqual(connectedAt);
  });

  it("When a re-authorized source resyncs, then it reaches back to its last catch-up (the needs_reauth gap) but not before the first connection", () => {
    // Connected at 09:30, caught up last at 10:00, then needs_reauth until the re-authorization at 12:00.
    const connectedAt = new Date("2026-11-23T09:30:00Z");
    const lastSyncAt = new Date("2026-11-23T10:00:00Z");
    expect(resyncSince({ lastSyncAt, lastProcessedAt: null, connectedAt }, now)).toEqual(connectedAt);
    const caughtUpLater = new Date("2026-11-23T11:00:00Z");
    expect(resyncSince({ lastSyncAt: caughtUpLater, lastProcessedAt: null, connectedAt }, now)).toEqual(
      new Date(caughtUpLater.getTime() - RESYNC_MARGIN_MS),
    );
  });

  it("writes Gmail's search with epoch seconds", () => {
    expect(resyncQuery(new Date("2026-11-23T11:00:00.900Z"))).toBe("in:inbox after:1795431600");
  });
});
