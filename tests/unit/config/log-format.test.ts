import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { ConfigError, parseConfig } from "../../../src/config.ts";
import { createLogger } from "../../../src/log.ts";

function capture() {
  const lines: string[] = [];
  const stream = new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) });
  return { lines, stream };
}

describe("LOG_FORMAT and log lines", () => {
  it("When LOG_FORMAT is json or pretty, then the config carries it; unset, the logger decides by the terminal", () => {
    expect(parseConfig({ LOG_FORMAT: "pretty" }).logFormat).toBe("pretty");
    expect(parseConfig({ LOG_FORMAT: "json" }).logFormat).toBe("json");
    expect(parseConfig({}).logFormat).toBeUndefined();
  });

  it("When LOG_FORMAT has another value, then the start stops with a message naming the variable", () => {
    expect(() => parseConfig({ LOG_FORMAT: "yaml" })).toThrow(ConfigError);
    expect(() => parseConfig({ LOG_FORMAT: "yaml" })).toThrow(/LOG_FORMAT: expected json or pretty/);
  });

  it("When a JSON line is written, then its time is ISO-8601", () => {
    const { lines, stream } = capture();
    createLogger("info", stream, "json").info("hello");
    const line = JSON.parse(lines[0]!) as { time: string; msg: string };
    expect(line.time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(line.msg).toBe("hello");
  });

  it("When the format is pretty, then a line is for people: time, level and message, secrets still redacted", () => {
    const { lines, stream } = capture();
    createLogger("info", stream, "pretty").info({ password: "hunter2" }, "source failed");
    const text = lines.join("");
    expect(text).toMatch(/^\[\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3} [+-]\d{4}\] /);
    expect(text).toContain("INFO");
    expect(text).toContain("source failed");
    expect(text).not.toContain("hunter2");
    expect(() => JSON.parse(text)).toThrow();
  });

  it("When a source's opened secrets or an SMTP block reach a log line, then both passwords are redacted", () => {
    const { lines, stream } = capture();
    createLogger("info", stream, "json").info({ secrets: { password: "imap-pass", smtpPassword: "smtp-pass" }, body: { smtp: { password: "smtp-pass" } } }, "x");
    expect(lines.join("")).not.toMatch(/imap-pass|smtp-pass/);
  });
});
