import { describe, expect, it } from "vitest";
import { hasExpired, isRenewalDue, renewalDueAt, renewalRetryDelayMs } from "../../../src/sources/renewal-due.ts";

const t = (iso: string) => new Date(iso);

describe("renewalDueAt", () => {
  it("renews a week-long subscription a day after it was last renewed", () => {
    const due = renewalDueAt({ createdAt: t("2026-03-01T00:00:00Z"), lastRenewedAt: t("2026-03-02T00:00:00Z"), expiresAt: t("2026-03-09T00:00:00Z") });
    expect(due.toISOString()).toBe("2026-03-03T00:00:00.000Z");
  });

  it("renews a short subscription halfway through its life", () => {
    const due = renewalDueAt({ createdAt: t("2026-03-01T00:00:00Z"), lastRenewedAt: null, expiresAt: t("2026-03-01T02:00:00Z") });
    expect(due.toISOString()).toBe("2026-03-01T01:00:00.000Z");
  });

  it("When the expiry is unknown, then the renewal is due at once", () => {
    const createdAt = t("2026-03-01T00:00:00Z");
    expect(isRenewalDue({ createdAt, lastRenewedAt: null, expiresAt: null }, createdAt)).toBe(true);
  });
});

describe("renewalDueAt spread", () => {
  it("When 1,000 week-long watches are created in the same minute, then their renewals spread over the last quarter of the day and none is due later than a day", () => {
    const createdAt = t("2026-03-01T00:00:00Z");
    const dues = Array.from({ length: 1000 }, (_, i) =>
      renewalDueAt({ id: `sub-${i}`, createdAt, lastRenewedAt: createdAt, expiresAt: t("2026-03-08T00:00:00Z") }).getTime() - createdAt.getTime(),
    );
    const hour = 3_600_000;
    expect(Math.max(...dues)).toBeLessThanOrEqual(24 * hour);
    expect(Math.min(...dues)).toBeGreaterThanOrEqual(18 * hour);
    // No hour of those six holds more than a quarter of them.
    const perHour = new Map<number, number>();
    for (const d of dues) perHour.set(Math.floor(d / hour), (perHour.get(Math.floor(d / hour)) ?? 0) + 1);
    expect(Math.max(...perHour.values())).toBeLessThan(250);
    expect(perHour.size).toBe(6);
  });

  it("When the same subscription is asked about twice, then its due time is the same", () => {
    const facts = { id: "a3b1", createdAt: t("2026-03-01T00:00:00Z"), lastRenewedAt: null, expiresAt: t("2026-03-01T02:00:00Z") };
    expect(renewalDueAt(facts)).toEqual(renewalDueAt({ ...facts }));
    expect(renewalDueAt(facts).getTime()).toBeGreaterThanOrEqual(t("2026-03-01T00:45:00Z").getTime());
  });
});

describe("hasExpired", () => {
  it("is true from the expiry on", () => {
    expect(hasExpired({ expiresAt: t("2026-03-01T00:00:00Z") }, t("2026-03-01T00:00:00Z"))).toBe(true);
    expect(hasExpired({ expiresAt: t("2026-03-01T00:00:01Z") }, t("2026-03-01T00:00:00Z"))).toBe(false);
    expect(hasExpired({ expiresAt: null }, t("2026-03-01T00:00:00Z"))).toBe(false);
  });
});

describe("renewalRetryDelayMs", () => {
  it("waits a minute after the first failure, doubling up to half an hour", () => {
    expect([1, 2, 3].map(renewalRetryDelayMs)).toEqual([60_000, 120_000, 240_000]);
    expect(renewalRetryDelayMs(12)).toBe(30 * 60_000);
  });
});
