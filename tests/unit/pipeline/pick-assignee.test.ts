import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { pickAssignee } from "../../../src/pipeline/pick-assignee.ts";

const TECHS = ["tech-c", "tech-a", "tech-b"];

describe("pickAssignee", () => {
  it("When auto-assign is none (the default), then nobody is assigned", () => {
    expect(pickAssignee({ mode: "none" }, TECHS, 3)).toBeNull();
  });

  it("When a specific active tech is configured, then that tech is assigned", () => {
    expect(pickAssignee({ mode: "specific", techId: "tech-b" }, TECHS, 0)).toBe("tech-b");
  });

  it("When the specific tech is no longer active, then the ticket stays unassigned", () => {
    expect(pickAssignee({ mode: "specific", techId: "tech-gone" }, TECHS, 0)).toBeNull();
  });

  it("When round robin runs, then the active techs take turns in id order whatever order they come in", () => {
    const picks = [0, 1, 2, 3, 4].map((n) => pickAssignee({ mode: "round_robin" }, TECHS, n));
    expect(picks).toEqual(["tech-a", "tech-b", "tech-c", "tech-a", "tech-b"]);
    expect(pickAssignee({ mode: "round_robin" }, [...TECHS].reverse(), 1)).toBe("tech-b");
  });

  it("When round robin has no active techs, then nobody is assigned", () => {
    expect(pickAssignee({ mode: "round_robin" }, [], 7)).toBeNull();
  });

  it("When the counter is any integer, then round robin always picks an active tech", () => {
    fc.assert(
      fc.property(fc.integer(), fc.uniqueArray(fc.uuid(), { minLength: 1, maxLength: 10 }), (counter, techs) => {
        expect(techs).toContain(pickAssignee({ mode: "round_robin" }, techs, counter));
      }),
    );
  });

  it("When n tickets arrive in a row, then each of n techs gets exactly one", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1_000_000 }), fc.uniqueArray(fc.uuid(), { minLength: 1, maxLength: 10 }), (start, techs) => {
        const picks = techs.map((_, i) => pickAssignee({ mode: "round_robin" }, techs, start + i));
        expect(new Set(picks).size).toBe(techs.length);
      }),
    );
  });
});
