import { describe, expect, it } from "vitest";
import { describeSettings, parseConfig } from "../../../src/config.ts";

describe("SOURCE_FAILED_WEBHOOK_DELAY_SECONDS", () => {
  it("When it is unset, then source.failed waits five minutes; 0 sends it at once; a negative value stops the start naming it", () => {
    expect(parseConfig({}).sourceFailedWebhookDelaySeconds).toBe(300);
    expect(describeSettings().find((s) => s.name === "SOURCE_FAILED_WEBHOOK_DELAY_SECONDS")?.default).toBe("300");
    expect(parseConfig({ SOURCE_FAILED_WEBHOOK_DELAY_SECONDS: "0" }).sourceFailedWebhookDelaySeconds).toBe(0);
    expect(() => parseConfig({ SOURCE_FAILED_WEBHOOK_DELAY_SECONDS: "-1" })).toThrow(/SOURCE_FAILED_WEBHOOK_DELAY_SECONDS/);
  });
});
