import { pino, type Logger } from "pino";

// Secrets never reach a log line: these paths are censored wherever they appear.
const REDACT = [
  "password",
  "*.password",
  "*.*.password",
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

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino({ level, redact: { paths: REDACT, censor: "[redacted]" }, base: { service: "mailgate" } }, destination as never);
}

export type { Logger };
