// The command line: mailgate takes its settings from the environment, so the only arguments are
// --help and --version. Both answer and exit before a database or a port is opened, so they work
// beside a running instance.
import { readFileSync } from "node:fs";
import { describeSettings } from "./config.ts";

export type CommandLine = { kind: "start" } | { kind: "help" } | { kind: "version" } | { kind: "unknown"; arg: string };

export function parseCommandLine(args: readonly string[]): CommandLine {
  const [first, ...rest] = args;
  if (first === undefined) return { kind: "start" };
  if (rest.length > 0) return { kind: "unknown", arg: rest[0]! };
  if (first === "--help" || first === "-h" || first === "help") return { kind: "help" };
  if (first === "--version" || first === "-v" || first === "version") return { kind: "version" };
  return { kind: "unknown", arg: first };
}

export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string };
  return pkg.version;
}

export function helpText(): string {
  const settings = describeSettings();
  const width = Math.max(...settings.map((s) => s.name.length));
  const lines = settings.map((s) => {
    const value = s.default === undefined ? "(unset)" : `default ${s.default}`;
    return `  ${s.name.padEnd(width)}  ${value}\n  ${" ".repeat(width)}  ${s.description}`;
  });
  return [
    `mailgate ${version()}: turns support email into tickets and tells downstream systems through signed webhooks.`,
    "",
    "Usage:",
    "  npm start                          start mailgate (same as: node src/main.ts)",
    "  npm start -- --help                this help",
    "  npm start -- --version             the version",
    "",
    "Settings come from the environment:",
    "",
    ...lines,
    "",
  ].join("\n");
}

/** Answers --help and --version and exits; returns only when the server should start. */
export function runCommandLine(args: readonly string[]): void {
  const command = parseCommandLine(args);
  switch (command.kind) {
    case "start":
      return;
    case "help":
      process.stdout.write(helpText());
      process.exit(0);
      break;
    case "version":
      process.stdout.write(`${version()}\n`);
      process.exit(0);
      break;
    case "unknown":
      process.stderr.write(`mailgate: unknown argument "${command.arg}"; settings come from the environment. See --help.\n`);
      process.exit(2);
  }
}
