import { describe, expect, it } from "vitest";
import { clientStateMatches } from "../../../src/sources/graph/client-state.ts";

describe("clientStateMatches", () => {
  it("accepts the exact clientState only", () => {
    expect(clientStateMatches("secret-state", "secret-state")).toBe(true);
    expect(clientStateMatches("secret-state", "secret-statf")).toBe(false);
    expect(clientStateMatches("secret-state", "secret-state-longer")).toBe(false);
  });

  it("rejects a missing, empty or non-string clientState", () => {
    for (const received of [undefined, null, "", 42, { a: 1 }]) expect(clientStateMatches("secret-state", received)).toBe(false);
  });
});
