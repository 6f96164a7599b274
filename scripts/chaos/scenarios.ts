// The faults, one function each: set up load, cause the fault, end it, hand over to the trial's
// recovery wait and count. Sizes come from the profile (full or --short), never from here.
import { startLoad, sleep, type Load } from "./load-driver.ts";
import type { PrivatePostgres } from "./private-postgres.ts";
import { openTrial, type Outcome, type Trial } from "./trial.ts";

export type Profile = {
  short: boolean;
  /** Messages in the kill -9 scenarios. */
  killMessages: number;
  /** Messages per second while a fault is under way. */
  rate: number;
  terminations: number;
  dbStops: number[];
  receiverDownMs: number;
  /** Longest wait for recovery after a fault's end. */
  settleMs: number;
};

export const FULL: Profile = {
  short: false,
  killMessages: 1_500,
  rate: 60,
  terminations: 6,
  dbStops: [10_000, 60_000],
  receiverDownMs: 60_000,
  settleMs: 180_000,
};

export const SHORT: Profile = {
  short: true,
  killMessages: 400,
  rate: 30,
  terminations: 3,
  dbStops: [10_000],
  receiverDownMs: 15_000,
  settleMs: 100_000,
};

export type Scenario = { fault: string; run(trial: Trial): Promise<Outcome> };

type Env = { pg: PrivatePostgres; profile: Profile };

const IN_FLIGHT = 20;
const POLL_MS = 20;

async function until(what: string, done: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await done()) return true;
    await sleep(POLL_MS);
  }
  console.error(`chaos: gave up waiting for ${what} after ${timeoutMs} ms`);
  return false;
}

/** Stops new mail at the fault's end and waits for recovery: every scenario ends the same way. */
const finishAfter = (trial: Trial, load: Load, faultEndedAt: number, profile: Profile) => {
  load.stop();
  return trial.finish(faultEndedAt, load.finished, profile.settleMs);
};

export function scenarios({ pg, profile }: Env): Scenario[] {
  const list: Scenario[] = [
    {
      fault: "kill -9 mailgate mid-intake",
      run: async (trial) => {
        const load = startLoad(trial.loadOptions({ concurrency: IN_FLIGHT, ratePerSecond: 0, maxMessages: profile.killMessages }));
        await until("half the intake", () => load.accepted() >= profile.killMessages / 2, 60_000);
        const inFlight = load.inFlight();
        await trial.killAndRestart(1_000);
        trial.note(`killed with ${inFlight} requests in flight`);
        // What the kill cut, its senders retry against the new process.
        return finishAfter(trial, load, Date.now(), profile);
      },
    },
    {
      fault: "kill -9 mailgate mid-batch",
      run: async (trial) => {
        // Intake only (no workers) builds the backlog, so the kill lands while workers are in it.
        await trial.restartWith({ MAILGATE_ROLES: "api" });
        await trial.mailgate().waitReady(60_000);
        const load = startLoad(trial.loadOptions({ concurrency: IN_FLIGHT, ratePerSecond: 0, maxMessages: profile.killMessages * 2 }));
        const sent = await load.finished;
        await trial.restartWith({});
        const target = Math.ceil(sent.accepted.size / 10);
        await until("workers into the backlog", async () => (await trial.ticketCount().catch(() => 0)) >= target, 120_000);
        const done = await trial.ticketCount();
        await trial.killAndRestart(1_000);
        trial.note(`killed with ${done} of ${sent.accepted.size} ticketed`);
        return trial.finish(Date.now(), Promise.resolve(sent), profile.settleMs);
      },
    },
    {
      fault: "kill -9 mailgate mid-delivery",
      run: async (trial) => {
        // A slow receiver keeps deliveries on the wire when the kill comes.
        trial.receiver.setDelay(200);
        const load = startLoad(trial.loadOptions({ concurrency: IN_FLIGHT, ratePerSecond: 0, maxMessages: profile.killMessages }));
        const sent = await load.finished;
        await until("a fifth of the deliveries", () => trial.receiver.ticketsCreated().size >= sent.accepted.size / 5, 120_000);
        const delivered = trial.receiver.ticketsCreated().size;
        await trial.killAndRestart(1_000);
        trial.receiver.setDelay(0);
        trial.note(`killed with ${delivered} of ${sent.accepted.size} events delivered; cut deliveries wait for their lease (timeout + 60 s)`);
        return trial.finish(Date.now(), Promise.resolve(sent), profile.settleMs);
      },
    },
    {
      fault: `backends terminated ×${profile.terminations} under load`,
      run: async (trial) => {
        const load = startLoad(trial.loadOptions({ concurrency: IN_FLIGHT, ratePerSecond: 0, maxMessages: 100_000 }));
        await sleep(2_000);
        let terminated = 0;
        for (let i = 0; i < profile.terminations; i++) {
          const rows = await pg.query<{ pid: number }>(
            "postgres",
            `select pg_terminate_backend(pid) from pg_stat_activity where datname = '${trial.database}' and pid <> pg_backend_pid()`,
          );
          terminated += rows.length;
          await sleep(1_500);
          // Revived as a supervisor would, so every round counts: a death is reported per round.
          if (await trial.reviveIfDead(`after termination ${i + 1}`)) await trial.mailgate().waitReady(60_000).catch(() => {});
        }
        trial.note(`${terminated} backends terminated, ${load.inFlight()} requests in flight at the end`);
        return finishAfter(trial, load, Date.now(), profile);
      },
    },
    ...profile.dbStops.map(
      (ms): Scenario => ({
        fault: `database stopped ${ms / 1000} s`,
        run: async (trial) => {
          const load = startLoad(trial.loadOptions({ concurrency: IN_FLIGHT, ratePerSecond: profile.rate, maxMessages: 100_000 }));
          await sleep(3_000);
          await pg.stop();
          await probeReadiness(trial);
          await sleep(ms);
          await pg.start();
          const faultEndedAt = Date.now();
          await trial.reviveIfDead("during the outage");
          return finishAfter(trial, load, faultEndedAt, profile);
        },
      }),
    ),
    {
      fault: "database killed -9, restarted",
      run: async (trial) => {
        const load = startLoad(trial.loadOptions({ concurrency: IN_FLIGHT, ratePerSecond: profile.rate, maxMessages: 100_000 }));
        await sleep(3_000);
        await pg.kill();
        await probeReadiness(trial);
        await sleep(2_000);
        await pg.start(); // crash recovery
        const faultEndedAt = Date.now();
        await trial.reviveIfDead("during the outage");
        return finishAfter(trial, load, faultEndedAt, profile);
      },
    },
    {
      fault: `webhook receiver down ${profile.receiverDownMs / 1000} s`,
      run: async (trial) => {
        const load = startLoad(trial.loadOptions({ concurrency: IN_FLIGHT, ratePerSecond: profile.rate, maxMessages: 100_000 }));
        await sleep(2_000);
        await trial.receiver.down();
        await sleep(profile.receiverDownMs);
        load.stop(); // mail during the outage only: the backlog is what must drain
        await trial.receiver.up();
        return finishAfter(trial, load, Date.now(), profile);
      },
    },
  ];
  return list;
}

/** While the database is down, /readyz must say so (503) within a second, not hang. */
async function probeReadiness(trial: Trial): Promise<void> {
  await sleep(500);
  const started = Date.now();
  const answer = await fetch(`${trial.mailgate().url}/readyz`, { signal: AbortSignal.timeout(5_000) }).then(
    (r) => String(r.status),
    () => null,
  );
  const ms = Date.now() - started;
  if (answer === null) trial.problem(`/readyz did not answer within 5 s while the database was down`);
  else if (answer !== "503") trial.problem(`/readyz answered ${answer} while the database was down`);
  else if (ms > 1_000) trial.problem(`/readyz took ${ms} ms to answer 503 while the database was down`);
  else trial.note(`/readyz 503 in ${ms} ms during the outage`);
}

export async function runScenario(scenario: Scenario, env: Env, tempRoot: string): Promise<Outcome> {
  const trial = await openTrial(scenario.fault, env.pg, tempRoot);
  try {
    return await scenario.run(trial);
  } finally {
    await trial.close();
  }
}
