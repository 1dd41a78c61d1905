// Whether the database holds every migration this build ships (for /readyz). It is on the
// request path, so it reads nothing from disk: the journal comes in as a JSON import,
// which every runtime's bundler and loader resolve (a Worker has no file system).
import journal from "../../drizzle/meta/_journal.json" with { type: "json" };
import type { Queryable } from "./client.ts";

const expectedMigrations = journal.entries.length;

/** True when every migration this build ships has been applied. */
export async function isMigrated(sql: Queryable): Promise<boolean> {
  const [row] = await sql<{ applied: number }[]>`
    select count(*)::int as applied
    from drizzle.__drizzle_migrations
  `.catch((error) => {
    // Before the first migration neither the schema nor the table exists.
    if (["3F000", "42P01"].includes(error?.code)) return [{ applied: 0 }];
    throw error;
  });
  return (row?.applied ?? 0) >= expectedMigrations;
}
