// The suite's verdict and its table: a row passes only with nothing lost, nothing ticketed
// twice, every event delivered, and no problem seen on the way (a death, a 500, a hung /readyz,
// no recovery).
import type { Outcome } from "./trial.ts";

export function passed(o: Outcome): boolean {
  return o.lost === 0 && o.duplicateTickets === 0 && o.undelivered === 0 && o.problems.length === 0;
}

const HEADERS = ["fault", "messages sent", "ticketed", "lost", "duplicate tickets", "events undelivered", "recovery time", "took", "result"];

export function formatTable(outcomes: Outcome[]): string {
  const rows = outcomes.map((o) => [
    o.fault,
    String(o.sent),
    String(o.ticketed),
    String(o.lost),
    String(o.duplicateTickets),
    String(o.undelivered),
    o.recoveryMs === null ? "none" : `${(o.recoveryMs / 1000).toFixed(1)} s`,
    o.tookMs === undefined ? "" : `${Math.round(o.tookMs / 1000)} s`,
    passed(o) ? "ok" : "FAIL",
  ]);
  const widths = HEADERS.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i === 0 || i === cells.length - 1 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(" | ")} |`;
  const out = [line(HEADERS), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...rows.map(line)];
  const details = outcomes.flatMap((o) => [
    ...o.problems.map((p) => `FAIL ${o.fault}: ${p}`),
    ...o.notes.map((n) => `     ${o.fault}: ${n}`),
  ]);
  return [...out, "", ...details].join("\n");
}
