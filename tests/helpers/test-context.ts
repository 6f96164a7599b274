// Each test file gets its own database: a fresh in-memory PGlite, or (with DATABASE_URL set) a
// fresh database on that Postgres server, dropped afterwards. Files can run in parallel.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import postgres from "postgres";
import supertest from "supertest";
import { parseConfig, type Config } from "../../src/config.ts";
import { buildContext } from "../../src/boot.ts";
import type { Clock, Context } from "../../src/context.ts";
import type { Lookup } from "../../src/delivery/url-safety.ts";
import { createApp } from "../../src/http/app.ts";
import { createLogger } from "../../src/log.ts";

export const TEST_TOKEN = "test-admin-token-0123456789";

export type TestContext = {
  ctx: Context;
  config: Config;
  api: ReturnType<typeof supertest.agent>;
  /** supertest without the token, for 401 checks and push endpoints. */
  anonymous: ReturnType<typeof supertest>;
  app: ReturnType<typeof createApp>;
  close(): Promise<void>;
};

export const usingPostgres = () => Boolean(process.env.DATABASE_URL);

/** Creates a database for one test file and returns its URL (undefined = embedded PGlite). */
export async function createTestDatabase(): Promise<{ url: string | undefined; drop(): Promise<void> }> {
  const base = process.env.DATABASE_URL;
  if (!base) return { url: undefined, drop: async () => {} };
  const name = `mailgate_test_${randomBytes(6).toString("hex")}`;
  const admin = postgres(base, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  await admin.end();
  const url = new URL(base);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const a = postgres(base, { max: 1, onnotice: () => {} });
      await a.unsafe(`drop database if exists ${name} with (force)`).catch(() => undefined);
      await a.end();
    },
  };
}

export async function createTestContext(
  opts: { env?: Record<string, string>; clock?: Clock; databaseUrl?: string; dataDir?: string; resolve?: Lookup } = {},
): Promise<TestContext> {
  const dataDir = opts.dataDir ?? mkdtempSync(path.join(os.tmpdir(), "mailgate-test-"));
  const database = opts.databaseUrl ? { url: opts.databaseUrl, drop: async () => {} } : await createTestDatabase();
  const config = parseConfig({
    DATA_DIR: dataDir,
    ADMIN_API_TOKEN: TEST_TOKEN,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "silent",
    DATABASE_URL: database.url,
    WEBHOOK_ALLOW_HTTP: "true",
    WEBHOOK_ALLOW_PRIVATE_NETWORKS: "true",
    PUBLIC_URL: "http://127.0.0.1:3000",
    ...opts.env,
  });
  const ctx = await buildContext(config, {
    inMemory: !database.url,
    clock: opts.clock,
    resolve: opts.resolve,
    log: createLogger(config.logLevel),
  });
  const app = createApp(ctx);
  const api = supertest.agent(app).set("Authorization", `Bearer ${TEST_TOKEN}`);
  return {
    ctx,
    config,
    api,
    anonymous: supertest(app),
    app,
    close: async () => {
      ctx.databaseOutage.stop();
      await ctx.database.close();
      await database.drop();
      if (!opts.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
