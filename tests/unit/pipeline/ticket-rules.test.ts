import { describe, expect, it } from "vitest";
import { pickJobType, pickPriority } from "../../../src/pipeline/ticket-rules.ts";
import { DEFAULT_TICKET_RULES } from "../../../src/settings/ticket-rules.ts";

describe("pickPriority", () => {
  it("When nothing is configured, then the guide's default Normal applies", () => {
    expect(pickPriority(null, DEFAULT_TICKET_RULES)).toBe("normal");
  });

  it("When the rules set a default priority, then it applies", () => {
    expect(pickPriority(null, { ...DEFAULT_TICKET_RULES, defaultPriority: "high" })).toBe("high");
  });

  it("When the job type has its own default priority, then it wins over the rules' default", () => {
    expect(pickPriority("urgent", { ...DEFAULT_TICKET_RULES, defaultPriority: "low" })).toBe("urgent");
  });
});

describe("pickJobType", () => {
  it("When nothing is configured, then the guide's default Support Request applies", () => {
    expect(pickJobType(DEFAULT_TICKET_RULES)).toBe("Support Request");
  });

  it("When a default job type is configured, then it applies", () => {
    expect(pickJobType({ ...DEFAULT_TICKET_RULES, defaultJobType: "Hardware" })).toBe("Hardware");
  });
});
