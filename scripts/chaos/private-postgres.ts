// A Postgres server of the chaos suite's own: Debian's initdb and pg_ctl (from `pg_config
// --bindir`) in a temp dir on a free loopback port, so the suite can stop and kill it without
// touching the shared server on 5432. Postgres refuses to run as root, so every server command
// runs as the `postgres` user through runuser when we are root.
import { execFile, execFileSync, spawnSync } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import postgres from "postgres";
import { freePort } from "../../tests/fakes/dovecot/dovecot-server.ts";

export type PrivatePostgres = {
  port: number;
  /** postgres://postgres@127.0.0.1:<port>/<database> */
  urlOf(database: string): string;
  createDatabase(name: string): Promise<void>;
  dropDatabase(name: string): Promise<void>;
  /** Runs one statement on `database` over a fresh connection (the pool of a test must not see faults). */
  query<T extends object>(database: string, text: string): Promise<T[]>;
  /** `pg_ctl stop -m fast`: the server ends every session and shuts down cleanly. */
  stop(): Promise<void>;
  /** SIGKILL to the postmaster and every backend, as a crashed host or container would leave it. */
  kill(): Promise<void>;
  /** `pg_ctl start`; after kill() this runs crash recovery first. */
  start(): Promise<void>;
  /** Stops the server if it runs and removes its directory (synchronous: it runs on exit too). */
  remove(): void;
};

const STARTUP_TIMEOUT_S = 60;

function binDir(): string {
  try {
    return execFileSync("pg_config", ["--bindir"], { encoding: "utf8" }).trim();
  } catch (err) {
    throw new Error("pg_config was not found: install Postgres's server package (Debian: postgresql) to run the chaos suite", {
      cause: err,
    });
  }
}

export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const bin = binDir();
  const asRoot = process.getuid?.() === 0;
  const dir = mkdtempSync(path.join(os.tmpdir(), "mailgate-chaos-pg-"));
  const dataDir = path.join(dir, "data");
  if (asRoot) {
    const uid = Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" }).trim());
    const gid = Number(execFileSync("id", ["-g", "postgres"], { encoding: "utf8" }).trim());
    chownSync(dir, uid, gid);
  }
  const port = await freePort();

  const argvOf = (tool: string, args: string[]): [string, string[]] =>
    asRoot ? ["runuser", ["-u", "postgres", "--", path.join(bin, tool), ...args]] : [path.join(bin, tool), args];
  // Asynchronous, so the load driver and the webhook receiver in this process keep running while
  // the server starts or stops.
  const run = (tool: string, args: string[]) =>
    new Promise<void>((resolve, reject) => {
      const [command, argv] = argvOf(tool, args);
      execFile(command, argv, { cwd: dir }, (err, stdout, stderr) =>
        err ? reject(new Error(`${tool} ${args.join(" ")} failed:\n${stdout}\n${stderr}`, { cause: err })) : resolve(),
      );
    });
  const runNow = (tool: string, args: string[]) => {
    const [command, argv] = argvOf(tool, args);
    return spawnSync(command, argv, { encoding: "utf8", cwd: dir });
  };

  await run("initdb", ["-D", dataDir, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C.UTF-8"]);
  const serverOptions = [
    `-p ${port}`,
    "-c listen_addresses=127.0.0.1",
    `-c unix_socket_directories=${dir}`,
    // Fsync off: the suite tests mailgate's reaction to a lost server, not the server's durability,
    // and the machine's disk is shared.
    "-c fsync=off",
    "-c max_connections=200",
  ].join(" ");
  const start = () => run("pg_ctl", ["start", "-D", dataDir, "-w", "-t", String(STARTUP_TIMEOUT_S), "-l", path.join(dir, "server.log"), "-o", serverOptions]);
  const postmasterPid = () => {
    const file = path.join(dataDir, "postmaster.pid");
    return existsSync(file) ? Number(readFileSync(file, "utf8").split("\n")[0]) : null;
  };
  await start();

  const urlOf = (database: string) => `postgres://postgres@127.0.0.1:${port}/${database}`;
  const query = async <T extends object>(database: string, text: string) => {
    const sql = postgres(urlOf(database), { max: 1, onnotice: () => {}, connect_timeout: 5 });
    try {
      return (await sql.unsafe(text)) as unknown as T[];
    } finally {
      await sql.end({ timeout: 1 });
    }
  };

  return {
    port,
    urlOf,
    createDatabase: async (name) => void (await query("postgres", `create database ${name}`)),
    dropDatabase: async (name) => void (await query("postgres", `drop database if exists ${name} with (force)`)),
    query,
    stop: () => run("pg_ctl", ["stop", "-D", dataDir, "-m", "fast", "-w"]),
    kill: async () => {
      const pid = postmasterPid();
      if (pid === null) return;
      // The backends are the postmaster's children; killed together nothing is left holding the
      // shared memory, so the next start can run crash recovery at once.
      const children = childrenOf(pid);
      for (const p of [pid, ...children]) {
        try {
          process.kill(p, "SIGKILL");
        } catch {
          // Already gone.
        }
      }
      const deadline = Date.now() + 10_000;
      while ([pid, ...children].some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    },
    start,
    remove: () => {
      if (runNow("pg_ctl", ["status", "-D", dataDir]).status === 0) runNow("pg_ctl", ["stop", "-D", dataDir, "-m", "immediate", "-w"]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === pid) out.push(Number(entry));
    } catch {
      // The process ended meanwhile.
    }
  }
  return out;
}

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}
