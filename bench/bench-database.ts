// Benchmarks run against a real Postgres: a fresh database on BENCH_DATABASE_URL (or the local
// CI server), dropped afterwards.
import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import postgres from "postgres";
import { buildContext } from "../src/boot.ts";
import { queryRows, sql, unixSocketOf } from "../src/db/client.ts";
import { parseConfig } from "../src/config.ts";
import type { Context } from "../src/context.ts";
import { startCpuProfile } from "./cpu-profile.ts";

export async function benchContext(env: Record<string, string> = {}): Promise<{ ctx: Context; close(): Promise<void> }> {
  const base = process.env.BENCH_DATABASE_URL ?? process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
  const name = `mailgate_bench_${randomBytes(4).toString("hex")}`;
  const socket = unixSocketOf(base);
  const adminOptions = { max: 1, onnotice: () => {}, ...(socket.socketDir ? { host: socket.socketDir } : {}) };
  const admin = postgres(socket.url, adminOptions);
  await admin.unsafe(`create database ${name}`);
  await admin.end();
  const url = new URL(socket.url);
  url.pathname = `/${name}`;
  if (socket.socketDir) url.searchParams.set("host", socket.socketDir);
  const config = parseConfig({
    DATABASE_URL: url.toString(),
    DATA_DIR: mkdtempSync(path.join(os.tmpdir(), "mailgate-bench-")),
    ADMIN_API_TOKEN: "bench-token-0123456789",
    LOG_LEVEL: "warn",
    WEBHOOK_ALLOW_HTTP: "true",
    WEBHOOK_ALLOW_PRIVATE_NETWORKS: "true",
    ...env,
  });
  const ctx = await buildContext(config);
  return {
    ctx,
    close: async () => {
      await ctx.database.close();
      const a = postgres(socket.url, adminOptions);
      await a.unsafe(`drop database if exists ${name} with (force)`);
      await a.end();
    },
  };
}

/** The embedded database (PGlite, in memory), for a bench run on it as well. */
export async function embeddedBenchContext(env: Record<string, string> = {}): Promise<{ ctx: Context; close(): Promise<void> }> {
  const config = parseConfig({
    DATA_DIR: mkdtempSync(path.join(os.tmpdir(), "mailgate-bench-")),
    ADMIN_API_TOKEN: "bench-token-0123456789",
    LOG_LEVEL: "warn",
    ...env,
  });
  const ctx = await buildContext(config, { inMemory: true });
  return { ctx, close: () => ctx.database.close() };
}

export const fmt = (n: number, digits = 0) => n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });

/**
 * CPU seconds the database server's backends for this database have used so far, by process id
 * (Linux, server on this machine; empty otherwise). Two readings bracket a phase: with the
 * process's own `process.cpuUsage()`, they tell where a pipeline's CPU went on a shared machine.
 */
export async function databaseCpuSeconds(ctx: Context): Promise<Map<number, number>> {
  const rows = await queryRows<{ pid: number }>(ctx.db, sql`select pid from pg_stat_activity where datname = current_database()`);
  const out = new Map<number, number>();
  for (const { pid } of rows) {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
      out.set(pid, (Number(fields[11]) + Number(fields[12])) / 100); // utime + stime, in clock ticks
    } catch {
      // Not on this machine, or not Linux: no reading.
    }
  }
  return out;
}

export function cpuSpent(before: Map<number, number>, after: Map<number, number>): number {
  let total = 0;
  for (const [pid, seconds] of after) total += seconds - (before.get(pid) ?? 0);
  return total;
}

/**
 * This process's threads as the kernel's scheduler saw them (Linux; null elsewhere): seconds on a
 * CPU and seconds runnable but waiting for one, for the main (JavaScript) thread and for all the
 * others together (V8's optimising compiler and its GC helpers, libuv's pool). Two readings
 * bracket a phase.
 */
export type ThreadTimes = { main: { run: number; wait: number }; others: { run: number; wait: number } };

export function threadTimes(): ThreadTimes | null {
  try {
    const out: ThreadTimes = { main: { run: 0, wait: 0 }, others: { run: 0, wait: 0 } };
    for (const tid of readdirSync("/proc/self/task")) {
      let fields: number[];
      try {
        fields = readFileSync(`/proc/self/task/${tid}/schedstat`, "utf8").trim().split(" ").map(Number);
      } catch {
        continue; // the thread ended meanwhile
      }
      const into = tid === String(process.pid) ? out.main : out.others;
      into.run += fields[0]! / 1e9;
      into.wait += fields[1]! / 1e9;
    }
    return out;
  } catch {
    return null;
  }
}

export function threadTimesSpent(before: ThreadTimes | null, after: ThreadTimes | null): ThreadTimes | null {
  if (!before || !after) return null;
  return {
    main: { run: after.main.run - before.main.run, wait: after.main.wait - before.main.wait },
    others: { run: after.others.run - before.others.run, wait: after.others.wait - before.others.wait },
  };
}

/** What a measured phase cost: this process's CPU, its threads' run and wait, Postgres's CPU, the wall time, and the CPU profile's file if one was asked. */
export type PhaseCost = { cpu: NodeJS.CpuUsage; wallMs: number; threads: ThreadTimes | null; databaseSeconds: number; profileFile: string | null };

/** Starts measuring a phase of a bench (with BENCH_CPU_PROFILE=<dir>, profiling it as `profileName`); `stop` answers what it cost. */
export async function startPhase(ctx: Context, profileName: string): Promise<{ stop(): Promise<PhaseCost> }> {
  const dbBefore = await databaseCpuSeconds(ctx);
  const profile = await startCpuProfile(process.env.BENCH_CPU_PROFILE, profileName);
  const threadsBefore = threadTimes();
  const cpuBefore = process.cpuUsage();
  const wallBefore = performance.now();
  return {
    stop: async () => {
      const cpu = process.cpuUsage(cpuBefore);
      const wallMs = performance.now() - wallBefore;
      const threads = threadTimesSpent(threadsBefore, threadTimes());
      const profileFile = await profile.stop();
      const databaseSeconds = cpuSpent(dbBefore, await databaseCpuSeconds(ctx));
      return { cpu, wallMs, threads, databaseSeconds, profileFile };
    },
  };
}
