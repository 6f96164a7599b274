import { describe, expect, it } from "vitest";
import { parseSnsMessage, snsAgeProblem, SNS_MAX_AGE_S } from "../../../../src/sources/inbound-webhook/sns-message.ts";

const now = new Date("2026-03-01T12:00:00.000Z");
const agoS = (seconds: number) => ({ Timestamp: new Date(now.getTime() - seconds * 1000).toISOString() });

describe("snsAgeProblem", () => {
  it("When a message is as old as SNS's longest retries (an hour) and then some, then it is taken", () => {
    expect(snsAgeProblem(agoS(0), now)).toBeNull();
    expect(snsAgeProblem(agoS(3600), now)).toBeNull();
    expect(snsAgeProblem(agoS(SNS_MAX_AGE_S), now)).toBeNull();
  });

  it("When a message is older than the window, then it is refused naming its age and the limit", () => {
    expect(snsAgeProblem(agoS(SNS_MAX_AGE_S + 1), now)).toBe(`Timestamp ${agoS(SNS_MAX_AGE_S + 1).Timestamp} is ${SNS_MAX_AGE_S + 1} s old (at most ${SNS_MAX_AGE_S} s, longer than SNS retries)`);
  });

  it("When a message's Timestamp is ahead of our clock, then it is taken (it is signed; only our clock can be behind)", () => {
    expect(snsAgeProblem(agoS(-600), now)).toBeNull();
  });

  it("When the Timestamp is not a time, then the message is malformed", () => {
    const body = { Type: "Notification", MessageId: "m", TopicArn: "t", Message: "{}", Timestamp: "yesterday", Signature: "s", SigningCertURL: "u", SignatureVersion: "2" };
    expect(parseSnsMessage(Buffer.from(JSON.stringify(body)))).toEqual({ ok: false, reason: "Timestamp is not an ISO-8601 time" });
  });
});
