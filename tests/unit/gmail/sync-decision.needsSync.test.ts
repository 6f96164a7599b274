import { describe, expect, it } from "vitest";
import { historyIdOf, needsSync } from "../../../src/sources/gmail/sync-decision.ts";

describe("needsSync", () => {
  it("syncs when the notification is newer than the stored cursor, comparing as numbers not strings", () => {
    expect(needsSync({ historyId: "10" }, "9")).toBe(true);
    expect(needsSync({ historyId: "100000000000000000001" }, "99999999999999999999")).toBe(true);
  });

  it("does not sync again for a notification the cursor has already passed (a repeated push)", () => {
    expect(needsSync({ historyId: "9" }, "10")).toBe(false);
    expect(needsSync({ historyId: "10" }, "10")).toBe(false);
  });

  it("always syncs when forced (Process Now, safety net, start-up) or when there is no cursor or no historyId", () => {
    expect(needsSync({ historyId: "9", force: true }, "10")).toBe(true);
    expect(needsSync({ historyId: "9" }, null)).toBe(true);
    expect(needsSync({}, "10")).toBe(true);
  });

  it("reads the cursor only when it is a stored {historyId} of digits", () => {
    expect(historyIdOf({ historyId: "123" })).toBe("123");
    expect(historyIdOf({ historyId: 123 })).toBeNull();
    expect(historyIdOf(null)).toBeNull();
    expect(historyIdOf({ deltaLink: "x" })).toBeNull();
  });
});
