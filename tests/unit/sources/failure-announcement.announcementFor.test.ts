import { describe, expect, it } from "vitest";
import { announcementFor, type StreakState } from "../../../src/sources/failure-announcement.ts";

const now = new Date("2026-12-01T10:05:00Z");
const DELAY = 5 * 60_000;
const connected: StreakState = { status: "connected", failingSince: null, failureAnnouncedAt: null };
const failingFor = (ms: number, announced = false): StreakState => ({
  status: "error",
  failingSince: new Date(now.getTime() - ms),
  failureAnnouncedAt: announced ? new Date(now.getTime() - ms) : null,
});

describe("announcementFor", () => {
  it("When a failure only a settings change can fix starts, then source.failed is sent at once", () => {
    expect(announcementFor(connected, { status: "error" }, now, DELAY)).toBe("source.failed");
  });

  it("When a failure a retry may fix starts, then source.failed waits until it has lasted the delay", () => {
    expect(announcementFor(connected, { status: "error", transient: true }, now, DELAY)).toBeNull();
    expect(announcementFor(failingFor(DELAY - 1), { status: "error", transient: true }, now, DELAY)).toBeNull();
    expect(announcementFor(failingFor(DELAY), { status: "error", transient: true }, now, DELAY)).toBe("source.failed");
    expect(announcementFor(connected, { status: "error", transient: true }, now, 0)).toBe("source.failed");
  });

  it("When the streak was announced, then another failure sends nothing and connecting sends source.recovered", () => {
    expect(announcementFor(failingFor(DELAY * 2, true), { status: "error" }, now, DELAY)).toBeNull();
    expect(announcementFor(failingFor(DELAY * 2, true), { status: "connected" }, now, DELAY)).toBe("source.recovered");
  });

  it("When a failure that was never announced ends, then source.recovered is not sent either", () => {
    expect(announcementFor(failingFor(1_000), { status: "connected" }, now, DELAY)).toBeNull();
    expect(announcementFor({ ...failingFor(1_000), status: "connecting" }, { status: "connected" }, now, DELAY)).toBeNull();
  });

  it("When a grant is revoked, then source.needs_reauth is sent at once, once; a disabled source sends nothing", () => {
    expect(announcementFor(failingFor(1_000), { status: "needs_reauth" }, now, DELAY)).toBe("source.needs_reauth");
    expect(announcementFor({ ...failingFor(1_000, true), status: "needs_reauth" }, { status: "needs_reauth" }, now, DELAY)).toBeNull();
    expect(announcementFor({ status: "disabled", failingSince: null, failureAnnouncedAt: null }, { status: "error" }, now, DELAY)).toBeNull();
  });
});
