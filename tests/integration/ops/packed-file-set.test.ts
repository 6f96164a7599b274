// The run-time file set (the `files` list in package.json) built the way the Dockerfile builds the
// image: npm pack, extract, add the lock file, npm ci --omit=dev, then mailgate started from there
// on the embedded database (on a fresh Postgres database when DATABASE_URL is set, as the image
// runs under docker compose). A file mailgate reads at run time but the list leaves out fails here
// instead of in the image (the console was once missing from it).
import { execFile } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startMailgateProcess, type MailgateProcess } from "../../helpers/mailgate-process.ts";
import { createTestDatabase, usingPostgres } from "../../helpers/test-context.ts";

const ROOT = fileURLToPath(new URL("../../..", import.meta.url));
const TOKEN = "packed-admin-token-0123456789";
// npm ci from the npm cache, then a first start of the embedded database: minutes on a busy machine.
const SETUP_TIMEOUT_MS = 600_000;

const run = promisify(execFile);

// Run under `npm test`, this process carries npm's npm_* variables (the checkout's prefix among
// them); the nested npm must see only its own directory.
function npmEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.toLowerCase().startsWith("npm_")));
}

async function npm(args: string[], cwd: string): Promise<string> {
  const { stdout } = await run("npm", args, { cwd, env: npmEnv(), maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}

/** The files a patch in patches/ changes, as paths under node_modules (`diff --git a/node_modules/...`). */
function filesChangedBy(patchFile: string): string[] {
  const text = readFileSync(patchFile, "utf8");
  return [...text.matchAll(/^diff --git a\/(node_modules\/\S+) b\//gm)].map((m) => m[1]!);
}

const patchFiles = existsSync(path.join(ROOT, "patches"))
  ? readdirSync(path.join(ROOT, "patches")).filter((f) => f.endsWith(".patch")).map((f) => path.join(ROOT, "patches", f))
  : [];

/** Every path under `dir` with its modification time, to tell what a run wrote there. */
function snapshot(dir: string): Map<string, number> {
  const entries = readdirSync(dir, { recursive: true, encoding: "utf8" });
  return new Map(entries.map((entry) => [entry, statSync(path.join(dir, entry)).mtimeMs]));
}

let work: string;
let app: string;
let installed: Map<string, number>;
let database: Awaited<ReturnType<typeof createTestDatabase>> | undefined;
let mailgate: MailgateProcess | undefined;
const timings: Record<string, number> = {};

async function timed<T>(step: string, f: () => Promise<T>): Promise<T> {
  const started = Date.now();
  try {
    return await f();
  } finally {
    timings[step] = Date.now() - started;
  }
}

beforeAll(async () => {
  work = mkdtempSync(path.join(os.tmpdir(), "mailgate-packed-"));
  app = path.join(work, "app");
  mkdirSync(app);
  const packed = await timed("npm pack", () => npm(["pack", "--json", "--pack-destination", work], ROOT));
  const [{ filename }] = JSON.parse(packed) as [{ filename: string }];
  await run("tar", ["-xzf", path.join(work, filename), "-C", app, "--strip-components=1"]);
  copyFileSync(path.join(ROOT, "package-lock.json"), path.join(app, "package-lock.json"));
  await timed("npm ci --omit=dev", () => npm(["ci", "--omit=dev", "--prefer-offline", "--no-audit", "--no-fund"], app));
  installed = snapshot(app);
  database = await createTestDatabase();
  const env = { ADMIN_API_TOKEN: TOKEN, ...(database.url ? { DATABASE_URL: database.url } : {}) };
  mailgate = await timed("start to /readyz", async () => {
    const started = await startMailgateProcess("packed", env, { cwd: app });
    await started.waitReady(SETUP_TIMEOUT_MS);
    return started;
  });
}, SETUP_TIMEOUT_MS);

afterAll(async () => {
  console.log(`packed file set: ${Object.entries(timings).map(([step, ms]) => `${step} ${(ms / 1000).toFixed(1)} s`).join(", ")}`);
  await mailgate?.stop();
  await database?.drop();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe("The packed run-time file set", () => {
  it("When packed, then it holds the sources, migrations and console but not the tests or dev dependencies", () => {
    for (const kept of ["src/main.ts", "migrations/meta/_journal.json", "console/index.html", "webhooks/schemas", "tsconfig.json"]) {
      expect(existsSync(path.join(app, kept)), kept).toBe(true);
    }
    for (const left of ["tests", "bench", ".ci", "node_modules/vitest", "node_modules/typescript"]) {
      expect(existsSync(path.join(app, left)), left).toBe(false);
    }
  });

  it("When started, then /healthz answers", async () => {
    const res = await fetch(`${mailgate!.url}/healthz`);
    expect(res.status).toBe(200);
  });

  it("When started, then /console/ serves the console's page, its script and its charting library", async () => {
    const page = await fetch(`${mailgate!.url}/console/`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
    expect(await page.text()).toContain("<title>mailgate console</title>");
    const script = await fetch(`${mailgate!.url}/console/app.js`);
    expect(script.status).toBe(200);
    expect(script.headers.get("content-type")).toMatch(/javascript/);
    // The overview's charts: uPlot, a production dependency, served from the install's node_modules.
    const charts = await fetch(`${mailgate!.url}/console/vendor/uplot/uPlot.esm.js`);
    expect(charts.status).toBe(200);
    expect(charts.headers.get("content-type")).toMatch(/javascript/);
  });

  it("When the admin token is given, then the API answers from the migrated database", async () => {
    const res = await fetch(`${mailgate!.url}/api/companies`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ items: expect.any(Array) });
  });

  it.runIf(usingPostgres())("When DATABASE_URL is set, then it has migrated that Postgres database", async () => {
    const sql = postgres(database!.url!, { max: 1, onnotice: () => {} });
    try {
      const [row] = await sql<{ table: string | null }[]>`select to_regclass('public.companies')::text as table`;
      expect(row?.table).toBe("companies");
    } finally {
      await sql.end();
    }
  });

  // The systemd unit mounts the install read-only (ProtectSystem=strict); data belongs in DATA_DIR.
  it("When it has started and served, then it has written nothing into its install directory", () => {
    const now = snapshot(app);
    const written = [...now].filter(([entry, mtime]) => installed.get(entry) !== mtime).map(([entry]) => entry);
    expect(written).toEqual([]);
  });

  it.skipIf(patchFiles.length === 0)(
    "When the project carries patches, then the packed install has them applied as the development install has",
    () => {
      for (const patchFile of patchFiles) {
        const changed = filesChangedBy(patchFile);
        expect(changed.length, patchFile).toBeGreaterThan(0);
        for (const file of changed) {
          expect(readFileSync(path.join(app, file), "utf8"), file).toBe(readFileSync(path.join(ROOT, file), "utf8"));
        }
      }
    },
  );
});
