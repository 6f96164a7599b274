import { describe, expect, it } from "vitest";
import { toSequenceSet } from "../../../src/sources/imap/sequence-set.ts";

describe("toSequenceSet", () => {
  it("writes runs of consecutive UIDs as ranges", () => {
    expect(toSequenceSet([4, 5, 6, 9, 11, 12])).toBe("4:6,9,11:12");
  });

  it("sorts and drops repeats", () => {
    expect(toSequenceSet([9, 4, 5, 4])).toBe("4:5,9");
  });

  it("is empty for no UIDs", () => {
    expect(toSequenceSet([])).toBe("");
  });
});
