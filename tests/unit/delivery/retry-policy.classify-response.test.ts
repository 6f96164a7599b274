import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { classifyResponse, shouldDisableForFailing } from "../../../src/delivery/retry-policy.ts";

describe("classifyResponse", () => {
  it("counts every 2xx as delivered", () => {
    fc.assert(fc.property(fc.integer({ min: 200, max: 299 }), (s) => classifyResponse(s) === "success"));
  });

  it("disables the endpoint on 410 Gone", () => {
    expect(classifyResponse(410)).toBe("disable_endpoint");
  });

  it("retries every other status, including redirects, which are not followed", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 100, max: 599 }).filter((s) => (s < 200 || s > 299) && s !== 410),
        (s) => classifyResponse(s) === "retry",
      ),
    );
    for (const s of [301, 302, 307, 400, 401, 404, 429, 500, 503]) expect(classifyResponse(s)).toBe("retry");
  });

  it("retries timeouts, connection errors and refused URLs, which come without a status", () => {
    expect(classifyResponse(null, "timed out after 15000 ms")).toBe("retry");
    expect(classifyResponse(null, "ECONNREFUSED: connect ECONNREFUSED 203.0.113.7:443")).toBe("retry");
    expect(classifyResponse(null)).toBe("retry");
  });
});

describe("shouldDisableForFailing", () => {
  const now = new Date("2025-03-20T12:00:00Z");
  const daysAgo = (d: number) => new Date(now.getTime() - d * 86_400_000);

  it("keeps a healthy endpoint enabled", () => {
    expect(shouldDisableForFailing(null, now, 5)).toBe(false);
  });

  it("keeps an endpoint that has failed for less than the limit", () => {
    expect(shouldDisableForFailing(daysAgo(4.9), now, 5)).toBe(false);
  });

  it("disables an endpoint that has failed for the whole limit or longer", () => {
    expect(shouldDisableForFailing(daysAgo(5), now, 5)).toBe(true);
    expect(shouldDisableForFailing(daysAgo(12), now, 5)).toBe(true);
  });
});
