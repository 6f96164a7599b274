import { describe, expect, it } from "vitest";
import { classifyGmailError } from "../../../src/sources/gmail/gmail-failure.ts";
import { describeWatchFailure } from "../../../src/sources/gmail/watch-failure.ts";

const googleError = (status: number, reason: string, message = reason, headers?: Headers) => ({
  message,
  status,
  response: { status, data: { error: { code: status, message, errors: [{ reason }] } }, headers: headers ?? new Headers() },
});

describe("classifyGmailError", () => {
  it("treats invalid_grant from the token endpoint as needing re-authorization, and says to click Authorize", () => {
    const failure = classifyGmailError({ message: "invalid_grant", response: { status: 400, data: { error: "invalid_grant", error_description: "Token has been expired or revoked." } } });
    expect(failure.kind).toBe("reauth");
    expect(failure.message).toContain("Authorize");
  });

  it("treats 429 and rate-limit 403s as rate limiting, with Retry-After", () => {
    const failure = classifyGmailError(googleError(429, "rateLimitExceeded", "Too many", new Headers({ "retry-after": "7" })));
    expect(failure).toMatchObject({ kind: "rate_limited", retryAfterMs: 7000 });
    expect(classifyGmailError(googleError(403, "userRateLimitExceeded")).kind).toBe("rate_limited");
  });

  it("treats 5xx and refused connections as transient", () => {
    expect(classifyGmailError(googleError(503, "backendError")).kind).toBe("transient");
    expect(classifyGmailError(Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" })).kind).toBe("transient");
  });

  it("tells how to enable the Gmail API when it is off", () => {
    const failure = classifyGmailError(googleError(403, "accessNotConfigured", "Gmail API has not been used in project 1 before or it is disabled."));
    expect(failure.kind).toBe("forbidden");
    expect(failure.message).toContain("APIs & Services");
  });

  it("keeps a 404 as not found (history too old, message deleted)", () => {
    expect(classifyGmailError(googleError(404, "notFound", "Requested entity was not found.")).kind).toBe("not_found");
  });
});

describe("describeWatchFailure", () => {
  it("names the publisher grant Gmail needs on the topic", () => {
    const failure = classifyGmailError(googleError(403, "forbidden", "Error sending test message to Cloud PubSub projects/p/topics/t : User not authorized to perform this action."));
    const described = describeWatchFailure(failure, "projects/p/topics/t");
    expect(described.code).toBe("topic_permission_denied");
    expect(described.message).toContain("gmail-api-push@system.gserviceaccount.com");
    expect(described.message).toContain("projects/p/topics/t");
  });

  it("says to create a topic that does not exist", () => {
    const described = describeWatchFailure(classifyGmailError(googleError(404, "notFound", "Resource not found")), "projects/p/topics/t");
    expect(described.code).toBe("topic_not_found");
  });
});
