// What the parts of mailgate are built from: created once by main.ts (or a test), passed down.
import type { Config } from "./config.js";
import type { Database, Db } from "./db/client.js";
import type { DatabaseOutage } from "./db/database-outage.js";
import type { Logger } from "./log.js";
import type { Metrics } from "./metrics/registry.js";
import type { SecretBox } from "./secrets/secret-box.js";

export type Clock = { now(): Date };
export const systemClock: Clock = { now: () => new Date() };

export type Context = {
  config: Config;
  database: Database;
  /** Where every part reports a failure that may be the database being away (logged once per outage). */
  databaseOutage: DatabaseOutage;
  db: Db;
  secrets: SecretBox;
  log: Logger;
  clock: Clock;
  adminToken: string;
  metrics: Metrics;
};
