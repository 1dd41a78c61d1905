// Applies the migrations in drizzle/ (hot tables from the schema, cold partitioned tables
// from the custom migration) at start-up. Several instances may start at once against one
// database, so they take turns on an advisory lock held on a connection of its own.
import { migrate } from "drizzle-orm/postgres-js/migrator";
import type { Db, Sql } from "./client.ts";

export const MIGRATIONS_FOLDER = new URL("../../drizzle", import.meta.url).pathname;
const MIGRATION_LOCK = 7_340_001;

export async function applyMigrations(sql: Sql, db: Db): Promise<void> {
  const lock = await sql.reserve();
  try {
    await lock`select pg_advisory_lock(${MIGRATION_LOCK})`;
    await migrate(db, { migrationsFolder: MIGRATIONS_FOLDER });
  } finally {
    await lock`select pg_advisory_unlock(${MIGRATION_LOCK})`.catch(() => {});
    lock.release();
  }
}
