// The chaos suite's verdict: a row passes only when its counts are clean and nothing went wrong
// on the way, so a crash that happened to lose nothing still fails the suite.
import { describe, expect, it } from "vitest";
import { formatTable, passed } from "../../../scripts/chaos/report.ts";
import type { Outcome } from "../../../scripts/chaos/trial.ts";

const clean: Outcome = { fault: "kill -9", sent: 10, ticketed: 10, lost: 0, duplicateTickets: 0, undelivered: 0, recoveryMs: 1500, problems: [], notes: [] };

describe("passed", () => {
  it("When nothing was lost, ticketed twice or left undelivered and no problem was seen, then the row passes", () => {
    expect(passed(clean)).toBe(true);
  });

  it.each([
    ["a message was lost", { lost: 1 }],
    ["a message was ticketed twice", { duplicateTickets: 1 }],
    ["an event was not delivered", { undelivered: 1 }],
    ["mailgate died though nothing was lost", { problems: ["mailgate died after termination 1 (exit code 1)"] }],
  ])("When %s, then the row fails", (_what, change) => {
    expect(passed({ ...clean, ...change })).toBe(false);
  });
});

describe("formatTable", () => {
  it("When a row has no recovery, then it says none and FAIL, and its problems follow the table", () => {
    const text = formatTable([{ ...clean, recoveryMs: null, problems: ["not recovered within 100 s of the fault's end"] }]);
    expect(text).toMatch(/\| kill -9 +\| +10 \| +10 \| +0 \| +0 \| +0 \| +none \| +\| FAIL +\|/);
    expect(text).toContain("FAIL kill -9: not recovered within 100 s");
  });
});
