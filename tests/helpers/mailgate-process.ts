// A real mailgate process (`node src/main.ts`) for the tests and benchmarks that need
// several instances: its own PORT and DATA_DIR on loopback, the rest of its settings from `env`,
// and the tail of its output kept so a failure can say what the process said.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "../fakes/dovecot/dovecot-server.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const OUTPUT_TAIL = 20_000;

export type MailgateProcess = {
  name: string;
  pid: number;
  /** http://127.0.0.1:<port> */
  url: string;
  /** The last 20 kB the process wrote to stdout and stderr. */
  output(): string;
  running(): boolean;
  /** How the process ended ("exit code 1", "signal SIGKILL"), or null while it runs. */
  exit(): string | null;
  /** Resolves once GET /readyz answers 200; fails when the process exits first or after timeoutMs. */
  waitReady(timeoutMs?: number): Promise<void>;
  /** Resolves once the output contains `text` (a log line, for processes without the api role). */
  waitForOutput(text: string, timeoutMs?: number): Promise<void>;
  /** SIGKILL, as a crash would: no lease released, no work finished. */
  kill(): Promise<void>;
  /** SIGTERM (a clean stop), SIGKILL after 15 s; then its DATA_DIR is removed. */
  stop(): Promise<void>;
};

export type MailgateProcessOptions = {
  /** The directory mailgate runs from (its src/, node_modules/...): this checkout unless given. */
  cwd?: string;
  /** Keeps a restarted process on its predecessor's port, as a supervisor would, so clients that retry reach the new process at the same address. */
  port?: number;
};

export async function startMailgateProcess(
  name: string,
  env: Record<string, string>,
  options: MailgateProcessOptions = {},
): Promise<MailgateProcess> {
  const port = options.port ?? (await freePort());
  const dataDir = mkdtempSync(path.join(os.tmpdir(), `mailgate-${name}-`));
  const child = spawn(process.execPath, ["src/main.ts"], {
    cwd: options.cwd ?? ROOT,
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: process.env.HOME ?? os.tmpdir(),
      HOST: "127.0.0.1",
      PORT: String(port),
      DATA_DIR: dataDir,
      LOG_LEVEL: "warn",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString("utf8")).slice(-OUTPUT_TAIL);
  };
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const running = () => child.exitCode === null && child.signalCode === null;
  const url = `http://127.0.0.1:${port}`;

  const signalAndWait = async (signal: NodeJS.Signals, escalateAfterMs?: number) => {
    if (!running()) return;
    child.kill(signal);
    const escalate = escalateAfterMs === undefined ? undefined : setTimeout(() => child.kill("SIGKILL"), escalateAfterMs);
    await exited;
    clearTimeout(escalate);
  };

  return {
    name,
    pid: child.pid!,
    url,
    output: () => output,
    running,
    exit: () => (running() ? null : child.signalCode ? `signal ${child.signalCode}` : `exit code ${child.exitCode}`),
    waitReady: async (timeoutMs = 60_000) => {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        if (!running()) throw new Error(`mailgate ${name} exited before it was ready:\n${output}`);
        // A /readyz that hangs must not hang the wait past its deadline.
        const ok = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2_000) }).then((r) => r.ok, () => false);
        if (ok) return;
        await new Promise((r) => setTimeout(r, 200));
      }
      throw new Error(`mailgate ${name} was not ready within ${timeoutMs} ms:\n${output}`);
    },
    waitForOutput: async (text, timeoutMs = 60_000) => {
      const deadline = Date.now() + timeoutMs;
      while (!output.includes(text)) {
        if (!running()) throw new Error(`mailgate ${name} exited before it said "${text}":\n${output}`);
        if (Date.now() > deadline) throw new Error(`mailgate ${name} did not say "${text}" within ${timeoutMs} ms:\n${output}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    kill: () => signalAndWait("SIGKILL"),
    stop: async () => {
      await signalAndWait("SIGTERM", 15_000);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
