// Applies the SQL migrations in migrations/ at start. Two instances starting at once are
// serialised by a Postgres advisory lock held on one dedicated session.
import { fileURLToPath } from "node:url";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import { migrate as migratePostgres } from "drizzle-orm/postgres-js/migrator";
import { sql, type Database } from "./client.js";

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
