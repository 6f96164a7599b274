// One code path, two backends: PGlite (embedded, in DATA_DIR) when no DATABASE_URL is set,
// postgres.js against a real server otherwise. Everything above this file sees a drizzle `Db`.
import { randomBytes } from "node:crypto";
import { EventEmitter } from "node:events";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { sql, type ExtractTablesWithRelations, type SQL } from "drizzle-orm";
import type { PgDatabase, PgQueryResultHKT, PgTransaction } from "drizzle-orm/pg-core";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { drizzle as drizzlePostgres } from "drizzle-orm/postgres-js";
import postgres from "postgres";
import * as schema from "./schema.ts";
import { exponentialMs, withJitter } from "../scheduler/backoff.ts";

export type Schema = typeof schema;
export type Db = PgDatabase<PgQueryResultHKT, Schema>;
export type Tx = PgTransaction<PgQueryResultHKT, Schema, ExtractTablesWithRelations<Schema>>;
/** Anything a repository function can run on: the database or an open transaction. */
export type Executor = Db | Tx;

/** What a wake is about: the pipeline's queue, webhook deliveries, endpoint changes, source settings and Process Now, and each push kind's sync work. */
export type Channel = "inbound" | "deliveries" | "endpoints" | "sources" | "gmail_sync" | "graph_sync" | "outbound";

export type Database = {
  kind: "pglite" | "postgres";
  db: Db;
  /** Wake workers waiting on a channel, in this process and (on Postgres) in every other instance. Call after commit. */
  wake(channel: Channel): void;
  onWake(channel: Channel, listener: () => void): () => void;
  /** Rejects when the database does not answer `select 1` within timeoutMs (default 1 s). */
  ping(timeoutMs?: number): Promise<void>;
  /**
   * Opens every connection of the pool now, in the background (Postgres; nothing to do on
   * PGlite), and they stay open. Opened on demand, they came up in the middle of the first burst
   * of mail, each paying its start-up (and every statement's first Parse/Describe round trip)
   * while messages waited. The pipeline workers call it when they start.
   */
  warm(): void;
  close(): Promise<void>;
  /** Only for migrate.ts: a way to run statements on one dedicated session. */
  withSession<T>(fn: (db: Db) => Promise<T>): Promise<T>;
};

export type DatabaseOptions = {
  databaseUrl: string | undefined;
  dataDir: string;
  poolSize?: number;
  /** Tests: keep the embedded database in memory instead of DATA_DIR. */
  inMemory?: boolean;
};

export async function openDatabase(opts: DatabaseOptions): Promise<Database> {
  return opts.databaseUrl ? openPostgres(opts.databaseUrl, opts.poolSize ?? 10) : openPglite(opts);
}

async function openPglite(opts: DatabaseOptions): Promise<Database> {
  let dir: string | undefined;
  if (!opts.inMemory) {
    dir = path.resolve(opts.dataDir, "pgdata");
    mkdirSync(dir, { recursive: true });
  }
  const client = new PGlite(dir);
  await client.waitReady;
  const db = drizzlePglite(client, { schema }) as unknown as Db;
  const signals = new EventEmitter();
  signals.setMaxListeners(0);
  return {
    kind: "pglite",
    db,
    wake: (channel) => void signals.emit(channel),
    onWake: (channel, listener) => {
      signals.on(channel, listener);
      return () => void signals.off(channel, listener);
    },
    ping: (timeoutMs) => withinTime(client.query("select 1"), timeoutMs),
    warm: () => undefined,
    close: async () => {
      signals.removeAllListeners();
      await client.close();
    },
    // PGlite is a single session already.
    withSession: (fn) => fn(db),
  };
}

async function openPostgres(url: string, poolSize: number): Promise<Database> {
  const { url: serverUrl, socketDir } = unixSocketOf(url);
  // Connections are kept open once made (no idle timeout; postgres.js still replaces each one
  // after its max_lifetime), so the pool warm() opens stays ready for the next burst.
  // JIT is off for mailgate's sessions: its statements are short, and one run with a planner
  // method switched off (db/planner.ts) whose plan still needs that method carries its "disable
  // cost" past the server's JIT threshold, so it would be compiled on every run (bench/README.md).
  const client = postgres(serverUrl, {
    max: poolSize,
    onnotice: () => {},
    idle_timeout: 0,
    connect_timeout: 10,
    // postgres.js's default reconnect delay grows long in an outage, and statements queue behind the
    // waiting connection instead of failing fast with a 503.
    backoff: reconnectDelaySeconds,
    connection: { jit: "off" },
    ...(socketDir ? { host: socketDir } : {}),
  });
  const db = drizzlePostgres(alwaysPrepared(client), { schema }) as unknown as Db;
  const signals = new EventEmitter();
  signals.setMaxListeners(0);
  const listening = new Map<Channel, Promise<unknown>>();
  const channelName = (c: Channel) => `mailgate_${c}`;
  // Our own notifications come back to us too; this process was already woken in-process.
  const self = randomBytes(8).toString("hex");
  return {
    kind: "postgres",
    db,
    wake: (channel) => {
      signals.emit(channel);
      client.notify(channelName(channel), self).catch(() => {
        // Other instances still poll; a lost notification only delays them.
      });
    },
    onWake: (channel, listener) => {
      if (!listening.has(channel)) {
        listening.set(
          channel,
          client.listen(channelName(channel), (from) => void (from !== self && signals.emit(channel))).catch(() => undefined),
        );
      }
      signals.on(channel, listener);
      return () => void signals.off(channel, listener);
    },
    // A statement can wait forever for a server that stopped answering (a dropped network, a
    // paused VM); readiness must answer within its own probe's timeout all the same.
    ping: (timeoutMs) => withinTime(client`select 1`.execute(), timeoutMs),
    warm: () =>
      void Promise.all(Array.from({ length: poolSize }, () => client`select 1`)).catch(() => {
        // Best effort: the first query that needs the database reports it missing.
      }),
    close: async () => {
      signals.removeAllListeners();
      await client.end({ timeout: 5 });
    },
    withSession: async (fn) => {
      const single = postgres(serverUrl, { max: 1, onnotice: () => {}, ...(socketDir ? { host: socketDir } : {}) });
      try {
        return await fn(drizzlePostgres(single, { schema }) as unknown as Db);
      } finally {
        await single.end({ timeout: 5 });
      }
    },
  };
}

/** 50 ms doubling to 1 s, ±25 %: gentle on a server that is starting, quick once it is up. */
export function reconnectDelaySeconds(retries: number): number {
  return withJitter(exponentialMs(retries + 1, 50, 1000), { spread: 0.25 }) / 1000;
}

async function withinTime(query: Promise<unknown>, timeoutMs = 1_000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(`the database did not answer within ${timeoutMs} ms`), { code: "ETIMEDOUT" })), timeoutMs);
  });
  try {
    await Promise.race([query, late]);
  } finally {
    clearTimeout(timer);
  }
}

type PgClient = postgres.Sql | postgres.TransactionSql;

/**
 * drizzle asks postgres.js for an unnamed statement every time (`prepare: false` unless a query
 * is given a name), and postgres.js then sends each one as Parse + Describe, waits for the
 * parameter types, and only then binds it: two round trips, and Postgres parses and plans the
 * same text on every call. Prepared, a statement is parsed once per connection and sent in one
 * round trip. Connections are recycled (postgres.js `max_lifetime`), which bounds the cache.
 */
export function alwaysPrepared<T extends PgClient>(client: T): T {
  return new Proxy(client, {
    get(target, prop) {
      if (prop === "unsafe") {
        return (query: string, params?: postgres.ParameterOrJSON<never>[], options?: postgres.UnsafeQueryOptions) =>
          target.unsafe(query, params, { ...options, prepare: true });
      }
      if (prop === "begin" || prop === "savepoint") {
        return (...args: unknown[]) => {
          const fn = args.pop() as (tx: postgres.TransactionSql) => unknown;
          const open = Reflect.get(target, prop) as (...a: unknown[]) => unknown;
          return open.apply(target, [...args, (tx: postgres.TransactionSql) => fn(alwaysPrepared(tx))]);
        };
      }
      const value: unknown = Reflect.get(target, prop);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/**
 * libpq's way to name a Unix-domain socket, `postgres://user@/db?host=/var/run/postgresql`: the
 * `host` parameter is a directory. postgres.js takes it as an option, not in the URL.
 */
export function unixSocketOf(url: string): { url: string; socketDir: string | null } {
  if (!/[?&]host=(\/|%2f)/i.test(url)) return { url, socketDir: null };
  // An empty host (`user@/db`) is what libpq users write; a URL needs one, so it gets a stand-in.
  const parsed = new URL(url.replace(/^([a-z]+:\/\/)([^/@]*@)?\//i, "$1$2localhost/"));
  const socketDir = parsed.searchParams.get("host")!;
  parsed.searchParams.delete("host");
  return { url: parsed.toString(), socketDir };
}

/** Rows of a raw `execute`, whichever driver ran it (postgres.js: an array; PGlite: `{rows}`). */
export async function queryRows<T>(executor: Executor, query: SQL): Promise<T[]> {
  return rowsOf<T>(await executor.execute(query));
}

/** The rows of an execute() result: postgres.js gives an array, PGlite an object with `rows`. */
export function rowsOf<T>(result: unknown): T[] {
  if (Array.isArray(result)) return result as T[];
  return ((result as { rows?: T[] }).rows ?? []) as T[];
}

/** A Postgres array literal: arrays travel as one text parameter, the same on both drivers. */
export function pgArray(values: readonly (string | number)[]): string {
  return `{${values.map((v) => (typeof v === "number" ? String(v) : `"${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`)).join(",")}}`;
}

export { sql };
