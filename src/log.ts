import { createRequire } from "node:module";
import { pino, type Logger } from "pino";
import type { PinoPretty } from "pino-pretty";

// Secrets never reach a log line: these paths are censored wherever they appear.
const REDACT = [
  "password",
  "*.password",
  "*.*.password",
  "smtpPassword",
  "*.smtpPassword",
  "*.*.smtpPassword",
  "secret",
  "*.secret",
  "*.clientSecret",
  "*.*.clientSecret",
  "token",
  "*.token",
  "*.accessToken",
  "*.refreshToken",
  "*.clientState",
  "req.headers.authorization",
  "headers.authorization",
  "authorization",
];

export type LogFormat = "json" | "pretty";

/**
 * JSON lines with ISO-8601 times for machines; `pretty` (the default on a terminal) for people.
 * `destination` defaults to stdout.
 */
export function createLogger(level: string, destination?: NodeJS.WritableStream, format?: LogFormat): Logger {
  const options = {
    level,
    redact: { paths: REDACT, censor: "[redacted]" },
    base: { service: "mailgate" },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  const pretty = format ?? (destination === undefined && process.stdout.isTTY ? "pretty" : "json");
  if (pretty === "pretty") {
    // Loaded only for people; synchronous, so the last lines before a process.exit are not lost.
    const prettyStream = createRequire(import.meta.url)("pino-pretty") as typeof PinoPretty;
    const stream = prettyStream({ destination: destination ?? 1, sync: true, singleLine: true, ignore: "service,pid,hostname", translateTime: "SYS:yyyy-mm-dd HH:MM:ss.l o" });
    return pino(options, stream);
  }
  return pino(options, destination as never);
}

export type { Logger };
