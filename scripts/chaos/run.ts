// npm run chaos [-- --short] [--only <words>]: mailgate as a real process on a private Postgres
// server, under load, through kill -9, terminated backends, a stopped and a killed database and a
// webhook receiver that goes away. Prints one row per fault and exits 1 when any row lost mail,
// ticketed a message twice, left an event undelivered, or saw mailgate die or not recover.
// Internals: docs/chaos.md.
import { rmSync } from "node:fs";
import { cleanUpAll, onCleanup } from "./cleanup.ts";
import { startPrivatePostgres } from "./private-postgres.ts";
import { FULL, SHORT, runScenario, scenarios } from "./scenarios.ts";
import { formatTable, passed } from "./report.ts";
import type { Outcome } from "./trial.ts";
import { suiteTempRoot } from "./trial.ts";

const args = process.argv.slice(2);
const short = args.includes("--short") || process.env.CHAOS_SHORT === "1";
const onlyAt = args.indexOf("--only");
// --only receiver,intake: the faults whose name contains one of the words (for working on one).
const only = onlyAt >= 0 ? args[onlyAt + 1]?.toLowerCase().split(",") : undefined;
const profile = short ? SHORT : FULL;
// The suite stops by itself even if a wait inside it misjudges.
const SUITE_LIMIT_MS = short ? 12 * 60_000 : 30 * 60_000;

let exiting = false;
async function abort(reason: string, code: number): Promise<never> {
  if (!exiting) {
    exiting = true;
    console.error(`\nchaos: ${reason}; cleaning up`);
    await cleanUpAll();
  }
  process.exit(code);
}
process.on("SIGINT", () => void abort("interrupted", 130));
process.on("SIGTERM", () => void abort("terminated", 143));
const watchdog = setTimeout(() => void abort(`the suite ran past its ${SUITE_LIMIT_MS / 60_000} min limit`, 2), SUITE_LIMIT_MS);
watchdog.unref();

async function main(): Promise<number> {
  const started = Date.now();
  const tempRoot = suiteTempRoot();
  onCleanup("temp dir", () => rmSync(tempRoot, { recursive: true, force: true }));
  console.log(`chaos (${short ? "short" : "full"}): starting a private Postgres server…`);
  const pg = await startPrivatePostgres();
  onCleanup("private Postgres", () => pg.remove());
  console.log(`chaos: Postgres on 127.0.0.1:${pg.port}`);

  const outcomes: Outcome[] = [];
  for (const scenario of scenarios({ pg, profile })) {
    if (only && !only.some((word) => scenario.fault.toLowerCase().includes(word))) continue;
    const t0 = Date.now();
    console.log(`chaos: ${scenario.fault}…`);
    let outcome: Outcome;
    try {
      outcome = await runScenario(scenario, { pg, profile }, tempRoot);
    } catch (err) {
      // A scenario that could not run is a failed row, and the next one still runs.
      outcome = { fault: scenario.fault, sent: 0, ticketed: 0, lost: 0, duplicateTickets: 0, undelivered: 0, recoveryMs: null, problems: [`the scenario could not run: ${(err as Error).message.split("\n")[0]}`], notes: [] };
      console.error(err);
    }
    outcome.tookMs = Date.now() - t0;
    console.log(`chaos: ${scenario.fault}: ${passed(outcome) ? "ok" : "FAILED"} in ${Math.round(outcome.tookMs / 1000)} s`);
    outcomes.push(outcome);
  }
  await cleanUpAll();
  console.log("");
  console.log(formatTable(outcomes));
  console.log(`\n${short ? "short" : "full"} run, ${Math.round((Date.now() - started) / 1000)} s`);
  return outcomes.length > 0 && outcomes.every(passed) ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    void abort("the suite failed", 1);
  },
);
