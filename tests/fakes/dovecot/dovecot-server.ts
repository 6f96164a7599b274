// A real Dovecot for tests and benchmarks: started as a child process (`dovecot -F -c <conf>`) on
// a free loopback port, with its config, users and Maildir in a temp folder. It can be killed
// (SIGKILL to its whole process group, as a crash would) and started again on the same port.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { ImapFlow } from "imapflow";
import { dovecotConfig } from "./dovecot-config.ts";

export type TestAccount = { user: string; password: string };

/**
 * Accounts are written to the passwd-file before Dovecot starts: Dovecot looks at the file at most
 * once a second, so a user added while it runs may be unknown for up to a second.
 */
const DEFAULT_ACCOUNTS = 16;

export type DovecotServer = {
  host: "127.0.0.1";
  port: number;
  dir: string;
  /** A mailbox account of its own (user + password) for one test. */
  takeAccount(): TestAccount;
  /** An IMAP client logged in as `user` (for APPEND and for checking what the server holds). */
  connect(user: string, password: string): Promise<ImapFlow>;
  /** SIGKILL to every Dovecot process: connections drop without a goodbye. */
  kill(): Promise<void>;
  /** Starts again after kill(), same port, same mail. */
  restart(): Promise<void>;
  stop(): Promise<void>;
  log(): string;
};

const BINARY_CANDIDATES = ["/usr/sbin/dovecot", "/usr/local/sbin/dovecot"];

export function findDovecot(): string | null {
  for (const candidate of BINARY_CANDIDATES) if (existsSync(candidate)) return candidate;
  const which = spawnSync("sh", ["-c", "command -v dovecot"], { encoding: "utf8" });
  const found = which.stdout.trim();
  return which.status === 0 && found ? found : null;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export type StartDovecotOptions = {
  accounts?: number;
  specialUse?: Record<string, string>;
  /** Concurrent IMAP sessions to allow beyond Dovecot's default limits (see dovecotConfig). */
  clients?: number;
};

export async function startDovecot(opts: StartDovecotOptions = {}): Promise<DovecotServer> {
  const binary = findDovecot();
  if (!binary) throw new Error("dovecot is not installed: apt-get install -y dovecot-imapd");
  const dir = mkdtempSync(path.join(os.tmpdir(), "mailgate-dovecot-"));
  // The login and mail processes run as other users and must reach into the folder.
  chmodSync(dir, 0o755);
  const mailDir = path.join(dir, "mail");
  mkdirSync(mailDir);
  const accounts: TestAccount[] = Array.from({ length: opts.accounts ?? DEFAULT_ACCOUNTS }, (_, i) => ({
    user: `support${i + 1}@mailgate.test`,
    password: randomBytes(9).toString("base64url"),
  }));
  writeFileSync(path.join(dir, "users"), accounts.map((a) => `${a.user}:{PLAIN}${a.password}\n`).join(""));
  const asRoot = process.getuid?.() === 0;
  const mailUid = asRoot ? 65534 : process.getuid!();
  const mailGid = asRoot ? 65534 : process.getgid!();
  if (asRoot) chownSync(mailDir, mailUid, mailGid);
  const port = await freePort();
  const conf = path.join(dir, "dovecot.conf");
  writeFileSync(
    conf,
    dovecotConfig({
      dir,
      port,
      instanceName: `mailgate-test-${randomBytes(4).toString("hex")}`,
      mailUid,
      mailGid,
      runAsUser: asRoot ? undefined : os.userInfo().username,
      specialUse: opts.specialUse,
      clients: opts.clients,
    }),
  );

  let child: ChildProcess | null = null;
  const launch = async () => {
    const proc = spawn(binary, ["-F", "-c", conf], { detached: true, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    proc.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child = proc;
    try {
      await waitForGreeting(port, proc, () => stderr);
    } catch (err) {
      await signalGroup(proc, "SIGKILL");
      throw err;
    }
  };
  await launch();

  const server: DovecotServer = {
    host: "127.0.0.1",
    port,
    dir,
    takeAccount: () => {
      const account = accounts.shift();
      if (!account) throw new Error(`all ${opts.accounts ?? DEFAULT_ACCOUNTS} test accounts are taken; start Dovecot with more`);
      return account;
    },
    connect: async (user, password) => {
      const client = new ImapFlow({ host: "127.0.0.1", port, secure: false, doSTARTTLS: false, auth: { user, pass: password }, logger: false });
      client.on("error", () => undefined);
      await client.connect();
      return client;
    },
    kill: async () => {
      if (child) await signalGroup(child, "SIGKILL");
      child = null;
    },
    restart: async () => {
      if (child) throw new Error("dovecot is running; kill() it first");
      await launch();
    },
    stop: async () => {
      if (child) await signalGroup(child, "SIGTERM", 5_000);
      child = null;
      rmSync(dir, { recursive: true, force: true });
    },
    log: () => (existsSync(path.join(dir, "dovecot.log")) ? readFileSync(path.join(dir, "dovecot.log"), "utf8") : ""),
  };
  return server;
}

/** Signals the child's process group (Dovecot's master and every process it forked). */
async function signalGroup(proc: ChildProcess, signal: NodeJS.Signals, escalateAfterMs?: number): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null || proc.pid === undefined) return;
  const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
  const send = (s: NodeJS.Signals) => {
    try {
      process.kill(-proc.pid!, s);
    } catch {
      // already gone
    }
  };
  send(signal);
  if (escalateAfterMs !== undefined) {
    const timer = setTimeout(() => send("SIGKILL"), escalateAfterMs);
    await exited;
    clearTimeout(timer);
  } else {
    await exited;
  }
  // Children notice the master's death a moment later; make sure none keeps the port.
  send("SIGKILL");
}

async function waitForGreeting(port: number, proc: ChildProcess, stderr: () => string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`dovecot exited with ${proc.exitCode}: ${stderr()}`);
    if (await greets(port)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`dovecot did not greet on 127.0.0.1:${port} within 15 s: ${stderr()}`);
}

function greets(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once("data", (data) => done(data.toString().startsWith("* OK")));
    socket.once("error", () => done(false));
  });
}
