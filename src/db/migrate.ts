// Applies the SQL migrations in migrations/ at start. Two instances starting at once are
// serialised by a Postgres advisory lock held on one dedicated session.
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import { migrate as migratePostgres } from "drizzle-orm/postgres-js/migrator";
import { queryRows, sql, type Database } from "./client.ts";

export const MIGRATIONS_FOLDER = fileURLToPath(new URL("../../migrations", import.meta.url));
const LOCK_KEY = 7_301_442_118; // arbitrary, stable: "mailgate migrations"

export async function runMigrations(database: Database): Promise<void> {
  await database.withSession(async (db) => {
    await db.execute(sql`select pg_advisory_lock(${LOCK_KEY})`);
    try {
      if (database.kind === "pglite") await migratePglite(db as never, { migrationsFolder: MIGRATIONS_FOLDER });
      else await migratePostgres(db as never, { migrationsFolder: MIGRATIONS_FOLDER });
    } finally {
      await db.execute(sql`select pg_advisory_unlock(${LOCK_KEY})`);
    }
  });
}

/**
 * How many migrations in migrations/ the database has not applied yet, by the rule drizzle's
 * migrator applies (a journal entry newer than the last applied one). Lets the start say what it
 * is about to do, and skip the migrator's dedicated session and lock when there is nothing to do.
 */
export async function pendingMigrations(database: Database): Promise<number> {
  const journal = JSON.parse(readFileSync(path.join(MIGRATIONS_FOLDER, "meta", "_journal.json"), "utf8")) as { entries: { when: number }[] };
  const [table] = await queryRows<{ exists: boolean }>(database.db, sql`select to_regclass('drizzle.__drizzle_migrations') is not null as exists`);
  if (!table?.exists) return journal.entries.length;
  const [last] = await queryRows<{ at: string | null }>(database.db, sql`select max(created_at)::text as at from drizzle.__drizzle_migrations`);
  const lastAt = last?.at === null || last?.at === undefined ? -Infinity : Number(last.at);
  return journal.entries.filter((entry) => entry.when > lastAt).length;
}
