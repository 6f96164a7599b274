// What another process on this machine uses, read from /proc (Linux): its CPU time and resident
// memory, and how many TCP connections it holds to a port. Readings of a process that has ended
// are null.
import { readdirSync, readFileSync, readlinkSync } from "node:fs";

export type ProcessUsage = { cpuSeconds: number; rssBytes: number };

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

export function processUsage(pid: number): ProcessUsage | null {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    const cpuSeconds = (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND; // utime + stime
    const rssKb = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
    return { cpuSeconds, rssBytes: Number(rssKb ?? 0) * 1024 };
  } catch {
    return null;
  }
}

/**
 * CPU seconds of a process, its children alive now, and its children that have ended (the kernel
 * adds those to the parent's cutime and cstime once reaped): Dovecot's master and its forks.
 */
export function processTreeCpuSeconds(rootPid: number): number {
  let ticks = 0;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let fields: string[];
    try {
      fields = readFileSync(`/proc/${entry}/stat`, "utf8").split(") ")[1]!.split(" ");
    } catch {
      continue; // ended meanwhile
    }
    const pid = Number(entry);
    if (pid === rootPid) ticks += Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
    else if (Number(fields[1]) === rootPid) ticks += Number(fields[11]) + Number(fields[12]);
  }
  return ticks / TICKS_PER_SECOND;
}

/** The process whose command line contains `text` (the first found), or null. */
export function findProcess(text: string): number | null {
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, "utf8").replaceAll("\0", " ").includes(text)) return Number(entry);
    } catch {
      // ended meanwhile
    }
  }
  return null;
}

/** Established TCP connections from process `pid` to 127.0.0.1:`port` (IPv4). */
export function connectionsTo(pid: number, port: number): number {
  try {
    const remote = `0100007F:${port.toString(16).toUpperCase().padStart(4, "0")}`;
    const inodes = new Set<string>();
    for (const line of readFileSync(`/proc/${pid}/net/tcp`, "utf8").split("\n").slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols[2] === remote && cols[3] === "01") inodes.add(cols[9]!); // 01: ESTABLISHED
    }
    let count = 0;
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      const target = safeReadlink(`/proc/${pid}/fd/${fd}`);
      if (target?.startsWith("socket:[") && inodes.has(target.slice(8, -1))) count++;
    }
    return count;
  } catch {
    return 0;
  }
}

function safeReadlink(file: string): string | null {
  try {
    return readlinkSync(file);
  } catch {
    return null; // closed meanwhile
  }
}

export const loadAverage = (): string => readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
