// The command line answers without starting: no database opened, no port bound, even while
// another process holds the port.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { describeSettings } from "../../../src/config.ts";

const ROOT = fileURLToPath(new URL("../../..", import.meta.url));
let taken: Server;
let port: number;
let tmp: string;

beforeAll(async () => {
  taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
  port = (taken.address() as { port: number }).port;
  tmp = mkdtempSync(path.join(os.tmpdir(), "mailgate-cli-"));
});
afterAll(async () => {
  await new Promise((resolve) => taken.close(resolve));
  rmSync(tmp, { recursive: true, force: true });
});

function run(...args: string[]) {
  const dataDir = path.join(tmp, "data");
  const result = spawnSync(process.execPath, ["src/main.ts", ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, HOST: "127.0.0.1", PORT: String(port), DATA_DIR: dataDir },
    encoding: "utf8",
    timeout: 30_000,
  });
  return { ...result, dataDirCreated: existsSync(dataDir) };
}

describe("mailgate's command line", () => {
  it("When started with --help while its port is taken, then it lists every environment variable with its default and exits 0 without creating DATA_DIR", () => {
    const result = run("--help");
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    for (const setting of describeSettings()) {
      expect(result.stdout).toContain(setting.name);
      if (setting.default !== undefined) expect(result.stdout).toContain(`default ${setting.default}`);
    }
    expect(result.stdout).toContain("LOG_FORMAT");
    expect(result.stdout).toContain("--version");
    expect(result.dataDirCreated).toBe(false);
  });

  it("When started with --version, then it prints package.json's version and exits 0", () => {
    const { version } = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as { version: string };
    const result = run("--version");
    expect(result.status).toBe(0);
    expect(result.stdout.trim()).toBe(version);
    expect(result.dataDirCreated).toBe(false);
  });

  it("When started with an unknown flag, then it exits 2 and says so on stderr", () => {
    const result = run("--frobnicate");
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('unknown argument "--frobnicate"');
    expect(result.stdout).toBe("");
    expect(result.dataDirCreated).toBe(false);
  });
});
