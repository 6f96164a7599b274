import { describe, expect, it } from "vitest";
import { decodeGmailNotification, parseHistoryId } from "../../../src/sources/gmail/gmail-notification.ts";

const data = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64");

describe("decodeGmailNotification", () => {
  it("reads the mailbox (lower-cased) and a numeric historyId as a BigInt", () => {
    expect(decodeGmailNotification(data({ emailAddress: "Support@Acme.com", historyId: 9876543 }))).toEqual({
      ok: true,
      notification: { emailAddress: "support@acme.com", historyId: 9876543n },
    });
  });

  it("keeps a string historyId beyond 2^53 exact", () => {
    const decoded = decodeGmailNotification(data({ emailAddress: "a@b.c", historyId: "18446744073709551615" }));
    expect(decoded.ok && decoded.notification.historyId).toBe(18446744073709551615n);
  });

  it("accepts the raw bytes a pull subscriber hands over", () => {
    const bytes = Buffer.from(JSON.stringify({ emailAddress: "a@b.c", historyId: "12" }));
    expect(decodeGmailNotification(bytes)).toMatchObject({ ok: true, notification: { historyId: 12n } });
  });

  it.each([
    ["no data", undefined],
    ["data that is not JSON", Buffer.from("not json").toString("base64")],
    ["no emailAddress", data({ historyId: 1 })],
    ["a zero historyId", data({ emailAddress: "a@b.c", historyId: 0 })],
    ["a fractional historyId", data({ emailAddress: "a@b.c", historyId: 1.5 })],
    ["a historyId that is not a number", data({ emailAddress: "a@b.c", historyId: "12abc" })],
    ["an emailAddress with a NUL character", data({ emailAddress: "a\u0000@b.c", historyId: 1 })],
  ])("refuses %s with a reason", (_label, input) => {
    const decoded = decodeGmailNotification(input);
    expect(decoded.ok).toBe(false);
    expect(!decoded.ok && decoded.reason).toMatch(/\w/);
  });

  it("parses history ids only when they are positive whole numbers", () => {
    expect(parseHistoryId(42)).toBe(42n);
    expect(parseHistoryId("42")).toBe(42n);
    expect(parseHistoryId(-1)).toBeNull();
    expect(parseHistoryId(Number.MAX_SAFE_INTEGER + 2)).toBeNull();
    expect(parseHistoryId(null)).toBeNull();
  });
});
