// bench:startup — `npm start` until /healthz answers, for a first start (empty DATA_DIR, new
// database) and a restart (the same ones again), a few runs each, on the embedded database and,
// when DATABASE_URL is set, on Postgres. Where the time goes is read from mailgate's own start-up
// log lines (their ISO times and `ms` fields).
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import postgres from "postgres";
import { unixSocketOf } from "../src/db/client.ts";
import { freePort } from "../tests/fakes/dovecot/dovecot-server.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const TIMEOUT_MS = 120_000;

type LogLine = { time: string; msg: string; ms?: number; startupMs?: number };
type Sample = {
  backend: string;
  start: "first" | "restart";
  totalMs: number;
  /** npm, node and loading mailgate's modules: spawn → the first start-up line. */
  loadMs: number;
  openMs: number | null;
  migrateMs: number | null;
  /** Keys, seeding, the HTTP app and the runtime: the rest until "mailgate started". */
  restMs: number;
  /** "mailgate started" → /healthz answered. */
  healthzMs: number;
  /** CPU time (user + system) of npm, sh and node until /healthz answered: less swayed by a busy machine than wall time. */
  cpuMs: number | null;
};

const TICK_MS = 10; // USER_HZ is 100 on Linux

/** CPU time used so far by every live process of a process group, from /proc (Linux). */
function groupCpuMs(pgid: number): number | null {
  try {
    let ticks = 0;
    for (const pid of readdirSync("/proc").filter((name) => /^\d+$/.test(name))) {
      let stat: string;
      try {
        stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      } catch {
        continue;
      }
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      // After "(comm)": state ppid pgrp ... utime is field 14, stime 15 (1-based in proc(5)).
      if (Number(fields[2]) !== pgid) continue;
      ticks += Number(fields[11]) + Number(fields[12]);
    }
    return ticks * TICK_MS;
  } catch {
    return null;
  }
}

async function startOnce(backend: string, start: Sample["start"], env: Record<string, string>): Promise<Sample> {
  const port = await freePort();
  const spawnedAt = Date.now();
  const child = spawn("npm", ["start", "--silent"], {
    cwd: ROOT,
    // Its own process group, so the stop reaches node under npm and sh.
    detached: true,
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: process.env.HOME ?? os.tmpdir(),
      HOST: "127.0.0.1",
      PORT: String(port),
      LOG_LEVEL: "debug",
      LOG_FORMAT: "json",
      ADMIN_API_TOKEN: "bench-startup-token-0123456789",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: LogLine[] = [];
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => {
    output += chunk.toString("utf8");
    const complete = output.split("\n");
    output = complete.pop() ?? "";
    for (const line of complete) if (line.startsWith("{")) lines.push(JSON.parse(line) as LogLine);
  });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));

  let healthzAt = 0;
  while (Date.now() - spawnedAt < TIMEOUT_MS) {
    if (child.exitCode !== null) throw new Error(`mailgate exited before /healthz answered:\n${stderr}`);
    const ok = await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok, () => false);
    if (ok) {
      healthzAt = Date.now();
      break;
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  if (healthzAt === 0) throw new Error(`/healthz did not answer within ${TIMEOUT_MS} ms:\n${stderr}`);
  const cpuMs = groupCpuMs(child.pid!);
  process.kill(-child.pid!, "SIGTERM");
  await exited;

  const at = (line: LogLine | undefined) => (line ? Date.parse(line.time) : NaN);
  const find = (re: RegExp) => lines.find((l) => re.test(l.msg));
  const first = lines[0];
  const open = find(/^embedded database open$|^Postgres pool ready/);
  // On Postgres the first statement of the migrations check also opens the first connection.
  const migrated = find(/^database migrations applied$|^database schema up to date$/);
  const started = find(/^mailgate started$/);
  if (!first || !started) throw new Error(`no start-up lines in mailgate's output:\n${stderr}`);
  const loadMs = at(first) - spawnedAt;
  return {
    backend,
    start,
    totalMs: healthzAt - spawnedAt,
    loadMs,
    openMs: open?.ms ?? null,
    migrateMs: migrated?.ms ?? null,
    restMs: at(started) - spawnedAt - loadMs - (open?.ms ?? 0) - (migrated?.ms ?? 0),
    healthzMs: healthzAt - at(started),
    cpuMs,
  };
}

async function pgliteRuns(): Promise<Sample[]> {
  const samples: Sample[] = [];
  for (let run = 0; run < RUNS; run++) {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), "mailgate-bench-startup-"));
    try {
      samples.push(await startOnce("pglite", "first", { DATA_DIR: dataDir }));
      samples.push(await startOnce("pglite", "restart", { DATA_DIR: dataDir }));
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }
  return samples;
}

async function postgresRuns(base: string): Promise<Sample[]> {
  const socket = unixSocketOf(base);
  const adminOptions = { max: 1, onnotice: () => {}, ...(socket.socketDir ? { host: socket.socketDir } : {}) };
  const admin = postgres(socket.url, adminOptions);
  const samples: Sample[] = [];
  try {
    for (let run = 0; run < RUNS; run++) {
      const name = `mailgate_bench_${randomBytes(4).toString("hex")}`;
      await admin.unsafe(`create database ${name}`);
      const url = new URL(socket.url);
      url.pathname = `/${name}`;
      if (socket.socketDir) url.searchParams.set("host", socket.socketDir);
      const dataDir = mkdtempSync(path.join(os.tmpdir(), "mailgate-bench-startup-"));
      try {
        const env = { DATA_DIR: dataDir, DATABASE_URL: url.toString() };
        samples.push(await startOnce("postgres", "first", env));
        samples.push(await startOnce("postgres", "restart", env));
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
        await admin.unsafe(`drop database if exists ${name} with (force)`);
      }
    }
  } finally {
    await admin.end();
  }
  return samples;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
};
const s = (ms: number | null) => (ms === null || Number.isNaN(ms) ? "—" : `${(ms / 1000).toFixed(2)} s`);

function table(samples: Sample[]): string {
  const head = ["backend", "start", "runs", "npm start → /healthz (median, min–max)", "npm+node+modules", "open database", "migrations", "rest until started", "started → /healthz", "CPU until /healthz"];
  const rows: string[][] = [];
  for (const backend of ["pglite", "postgres"]) {
    for (const start of ["first", "restart"] as const) {
      const group = samples.filter((x) => x.backend === backend && x.start === start);
      if (group.length === 0) continue;
      const totals = group.map((x) => x.totalMs);
      const med = (pick: (x: Sample) => number | null) => {
        const values = group.map(pick).filter((v): v is number => v !== null);
        return values.length ? median(values) : null;
      };
      rows.push([
        backend,
        start,
        String(group.length),
        `${s(median(totals))} (${s(Math.min(...totals))}–${s(Math.max(...totals))})`,
        s(med((x) => x.loadMs)),
        s(med((x) => x.openMs)),
        s(med((x) => x.migrateMs)),
        s(med((x) => x.restMs)),
        s(med((x) => x.healthzMs)),
        s(med((x) => x.cpuMs)),
      ]);
    }
  }
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
  return [line(head), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

const samples = await pgliteRuns();
if (process.env.DATABASE_URL) samples.push(...(await postgresRuns(process.env.DATABASE_URL)));
console.log(`bench:startup on ${os.cpus().length} CPUs, load average ${os.loadavg().map((l) => l.toFixed(2)).join(" ")}, Node ${process.version}`);
console.log(table(samples));
