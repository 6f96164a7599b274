// What the parts of mailgate are built from: created once by main.ts (or a test), passed down.
import type { Config } from "./config.ts";
import type { Database, Db } from "./db/client.ts";
import type { DatabaseOutage } from "./db/database-outage.ts";
import type { Logger } from "./log.ts";
import type { Metrics } from "./metrics/registry.ts";
import type { SecretBox } from "./secrets/secret-box.ts";
import type { Lookup } from "./delivery/url-safety.ts";

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
  /** How webhook host names become addresses, for the checks and the connections: dns.lookup, or a test's answers. */
  resolve: Lookup;
  adminToken: string;
  /** SMTP_CA_FILE's certificates, trusted beside the public ones by SMTP connections; undefined when unset. */
  smtpCa: string | undefined;
  metrics: Metrics;
};
