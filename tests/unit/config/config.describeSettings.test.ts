import { describe, expect, it } from "vitest";
import { describeSettings, parseConfig } from "../../../src/config.ts";

describe("describeSettings", () => {
  it("describes every variable the schema reads, with the default parseConfig applies", () => {
    const settings = new Map(describeSettings().map((s) => [s.name, s]));
    for (const setting of settings.values()) expect(setting.description, setting.name).not.toBe("");
    expect(settings.get("PORT")?.default).toBe("3000");
    expect(settings.get("MAILGATE_ROLES")?.default).toBe("api,worker,sources");
    expect(settings.get("WEBHOOK_RETRY_SCHEDULE")?.default).toBe(parseConfig({}).webhook.retryScheduleSeconds.join(","));
    expect(settings.get("DATABASE_URL")?.default).toBeUndefined();
    expect(settings.has("LOG_FORMAT")).toBe(true);
  });

  it("When WEBHOOK_ALLOW_HTTP and WEBHOOK_ALLOW_PRIVATE_NETWORKS are unset, then they follow the database: on when embedded, off on Postgres; set, they win", () => {
    expect(parseConfig({}).webhook).toMatchObject({ allowHttp: true, allowPrivateNetworks: true });
    expect(parseConfig({ DATABASE_URL: "postgres://h/db" }).webhook).toMatchObject({ allowHttp: false, allowPrivateNetworks: false });
    expect(parseConfig({ WEBHOOK_ALLOW_HTTP: "false" }).webhook.allowHttp).toBe(false);
    expect(parseConfig({ DATABASE_URL: "postgres://h/db", WEBHOOK_ALLOW_PRIVATE_NETWORKS: "yes" }).webhook.allowPrivateNetworks).toBe(true);
  });
});
