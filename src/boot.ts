// Builds a Context from a Config: opens the database, applies migrations, loads the keys.
// Shared by main.ts and the tests, so both run exactly the same start-up.
import path from "node:path";
import type { Config } from "./config.js";
import { systemClock, type Clock, type Context } from "./context.js";
import { openDatabase } from "./db/client.js";
import { runMigrations } from "./db/migrate.js";
import { seedDefaults } from "./db/settings.js";
import { createLogger, type Logger } from "./log.js";
import { createMetrics } from "./metrics/registry.js";
import { loadOrCreateAdminToken, loadOrCreateKey } from "./secrets/load-key.js";
import { createSecretBox } from "./secrets/secret-box.js";
import { ensurePrivateDataDir, privatizeTree } from "./private-data-dir.js";

export type BootOptions = { log?: Logger; clock?: Clock; inMemory?: boolean };

export async function buildContext(config: Config, opts: BootOptions = {}): Promise<Context & { adminTokenCreated: boolean }> {
  const log = opts.log ?? createLogger(config.logLevel, undefined, config.logFormat);
  ensurePrivateDataDir(config.dataDir, log);
  const key = loadOrCreateKey(config.secretKey, config.dataDir);
  const { token, created } = loadOrCreateAdminToken(config.adminApiToken, config.dataDir);
  const opened = await openDatabase({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    poolSize: config.databasePoolSize,
    inMemory: opts.inMemory,
  });
  const pgdata = opened.kind === "pglite" && !opts.inMemory ? path.resolve(config.dataDir, "pgdata") : null;
  const database = pgdata === null ? opened : { ...opened, close: () => opened.close().finally(() => privatizeTree(pgdata)) };
  try {
    await runMigrations(database);
    await seedDefaults(database.db);
  } catch (cause) {
    await database.close().catch(() => undefined);
    throw new Error("Applying database migrations failed; see the cause below.", { cause });
  }
  if (pgdata !== null) privatizeTree(pgdata);
  const clock = opts.clock ?? systemClock;
  return {
    config,
    database,
    db: database.db,
    secrets: createSecretBox(key),
    log,
    clock,
    adminToken: token,
    adminTokenCreated: created,
    metrics: createMetrics({ database, clock, log }),
  };
}
