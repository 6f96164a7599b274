// README.md's "Quick start with curl", run as a reader pastes it (bash and curl, in a directory whose
// data/admin-token holds the token) against mailgate on a loopback port: every request succeeds and
// every answer prints on a line of its own.
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestContext, TEST_TOKEN, type TestContext } from "../helpers/test-context.ts";

const README = readFileSync(new URL("../../README.md", import.meta.url), "utf8");

/** The first sh block under "## Quick start with curl". */
function quickStart(): string {
  const match = /^## Quick start with curl\n[\s\S]*?```sh\n([\s\S]*?)```/m.exec(README);
  if (!match?.[1]) throw new Error('README.md has no sh block under "## Quick start with curl"');
  return match[1];
}

const TOOLS = ["/usr/bin/bash", "/usr/bin/curl"];
const missing = TOOLS.filter((tool) => !existsSync(tool));
if (missing.length > 0 && !process.env.CI) console.warn(`SKIPPED README quick start: ${missing.join(", ")} not installed.`);

describe.skipIf(missing.length > 0 && !process.env.CI)("README.md: Quick start with curl", () => {
  let t: TestContext;
  let origin: string;
  let close: () => Promise<void>;
  const dir = mkdtempSync(join(tmpdir(), "mailgate-quick-start-"));
  beforeAll(async () => {
    t = await createTestContext();
    const server = t.app.listen(0, "127.0.0.1");
    await new Promise<void>((resolve, reject) => server.once("listening", resolve).once("error", reject));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    close = async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await t.close();
    };
    mkdirSync(join(dir, "data"));
    writeFileSync(join(dir, "data", "admin-token"), TEST_TOKEN);
  });
  afterAll(async () => {
    await close?.();
    rmSync(dir, { recursive: true, force: true });
  });

  it("When a reader pastes the quick start into bash, then every request succeeds and each answer is a line of JSON of its own", async () => {
    const script = quickStart();
    expect(script).toContain("http://localhost:3000/api");
    const { stdout, stderr } = await new Promise<{ stdout: string; stderr: string }>((resolve, reject) => {
      const child = execFile("bash", ["-s"], { cwd: dir, timeout: 30_000 }, (err, out, errOut) => (err ? reject(Object.assign(err, { stderr: errOut })) : resolve({ stdout: out, stderr: errOut })));
      child.stdin!.end(script.replaceAll("http://localhost:3000", origin));
    });
    expect(stderr).toBe("");
    expect(stdout.endsWith("\n"), "the last answer ends its line").toBe(true);
    const answers = stdout.trimEnd().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>);
    // Company, tech, settings, IMAP source, the raw email, the tickets (the "api" source's answer goes into SRC).
    expect(answers).toHaveLength(6);
    for (const answer of answers) expect(answer).not.toHaveProperty("error");
    expect(answers[0]).toMatchObject({ name: "Acme Corporation" });
    expect(answers[3]).toMatchObject({ kind: "imap", name: "Support inbox" });
    expect(answers[5]).toHaveProperty("items");
  });
});
