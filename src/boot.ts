// Builds a Context from a Config: opens the database, applies migrations, loads the keys.
// Shared by main.ts and the tests, so both run exactly the same start-up.
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import type { Config } from "./config.ts";
import { systemClock, type Clock, type Context } from "./context.ts";
import { openDatabase } from "./db/client.ts";
import { watchDatabaseOutages } from "./db/database-outage.ts";
import { pendingMigrations, runMigrations } from "./db/migrate.ts";
import { seedDefaults } from "./db/settings.ts";
import { createLogger, type Logger } from "./log.ts";
import { createMetrics } from "./metrics/registry.ts";
import { loadOrCreateAdminToken, loadOrCreateKey } from "./secrets/load-key.ts";
import { createSecretBox } from "./secrets/secret-box.ts";
import { systemLookup, type Lookup } from "./delivery/url-safety.ts";
import { ensurePrivateDataDir, privatizeTree } from "./private-data-dir.ts";

export type BootOptions = { log?: Logger; clock?: Clock; inMemory?: boolean; resolve?: Lookup };

export async function buildContext(config: Config, opts: BootOptions = {}): Promise<Context & { adminTokenCreated: boolean }> {
  const log = opts.log ?? createLogger(config.logLevel, undefined, config.logFormat);
  ensurePrivateDataDir(config.dataDir, log);
  const key = loadOrCreateKey(config.secretKey, config.dataDir);
  const { token, created } = loadOrCreateAdminToken(config.adminApiToken, config.dataDir);
  const smtpCa = readSmtpCa(config.smtpCaFile);
  const embedded = config.databaseUrl === undefined;
  const pgdata = embedded && !opts.inMemory ? path.resolve(config.dataDir, "pgdata") : null;
  // The first start of the embedded database takes several seconds in silence otherwise.
  if (pgdata !== null) {
    const first = !existsSync(path.join(pgdata, "PG_VERSION"));
    log.info({ dataDir: config.dataDir }, first ? `creating the embedded database in ${config.dataDir} (first start only)…` : `opening the embedded database in ${config.dataDir}…`);
  } else if (embedded) {
    log.debug("opening an in-memory embedded database…");
  } else {
    log.info("connecting to Postgres…");
  }
  let since = performance.now();
  const opened = await openDatabase({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    poolSize: config.databasePoolSize,
    inMemory: opts.inMemory,
  });
  log.info({ ms: elapsed(since) }, embedded ? "embedded database open" : "Postgres pool ready (connections open on first use)");
  const database = pgdata === null ? opened : { ...opened, close: () => opened.close().finally(() => privatizeTree(pgdata)) };
  try {
    since = performance.now();
    const pending = await pendingMigrations(database);
    if (pending > 0) {
      log.info({ pending }, `applying ${pending} database migration${pending === 1 ? "" : "s"}…`);
      await runMigrations(database);
      log.info({ ms: elapsed(since), applied: pending }, "database migrations applied");
    } else {
      log.debug({ ms: elapsed(since) }, "database schema up to date");
    }
    since = performance.now();
    await seedDefaults(database.db);
    log.debug({ ms: elapsed(since) }, "defaults seeded");
  } catch (cause) {
    await database.close().catch(() => undefined);
    throw new Error("Applying database migrations failed; see the cause below.", { cause });
  }
  if (pgdata !== null) {
    since = performance.now();
    privatizeTree(pgdata);
    log.debug({ ms: elapsed(since) }, "embedded database files made private");
  }
  const clock = opts.clock ?? systemClock;
  return {
    config,
    database,
    databaseOutage: watchDatabaseOutages({ log, ping: () => database.ping() }),
    db: database.db,
    secrets: createSecretBox(key),
    log,
    clock,
    resolve: opts.resolve ?? systemLookup,
    adminToken: token,
    adminTokenCreated: created,
    smtpCa,
    metrics: createMetrics({ database, clock, log }),
  };
}

/** Read before the database opens, so a wrong path stops the start at once, naming the variable. */
function readSmtpCa(file: string | undefined): string | undefined {
  if (file === undefined) return undefined;
  let pem: string;
  try {
    pem = readFileSync(file, "utf8");
  } catch (cause) {
    throw new Error(`SMTP_CA_FILE: cannot read ${file} (${(cause as Error).message}); give the path of a PEM file, or unset it.`, { cause });
  }
  if (!pem.includes("-----BEGIN CERTIFICATE-----")) {
    throw new Error(`SMTP_CA_FILE: ${file} holds no PEM certificate (a "-----BEGIN CERTIFICATE-----" block).`);
  }
  return pem;
}

const elapsed = (since: number): number => Math.round(performance.now() - since);
