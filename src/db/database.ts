// Opens the database the service runs on: DATABASE_URL when given, else an embedded
// PostgreSQL whose data stays under DATA_DIR across restarts (and is restarted when it
// dies). Either way the schema is migrated before anything else touches it, and a
// DATABASE_URL that cannot be used stops the start with one line naming it.
import { join } from "node:path";
import postgres from "postgres";
import type { Logger } from "../log.ts";
import { createDb, createSql, type Db, type Sql } from "./client.ts";
import { databaseUrlFailure } from "./connect-failure.ts";
import { startEmbeddedPostgres } from "./embedded-postgres.ts";
import { applyMigrations } from "./migrate.ts";

export interface DatabaseOptions {
  url?: string;
  dataDir: string;
  embeddedPort: number;
  poolSize: number;
  connectTimeoutSeconds: number;
  /** The embedded server's output (debug), notices (info) and deaths (error); silent when absent. */
  logger?: Logger;
  /** Restarts a dead embedded server (the service); a one-off command leaves it stopped. */
  isSupervised?: boolean;
  /** Told each time the embedded server came back after dying. */
  onEmbeddedRestart?: () => void;
}

export interface Database {
  url: string;
  sql: Sql;
  db: Db;
  isEmbedded: boolean;
  close(timeoutSeconds?: number): Promise<void>;
}

const EMBEDDED_DATABASE = "fleet";

// Tuned for steady ingest rather than PostgreSQL's small-machine defaults: more cache,
// and checkpoints far enough apart that bursts do not turn into full-page-write storms.
// Durability is untouched (fsync and synchronous_commit stay on).
const EMBEDDED_SETTINGS = {
  shared_buffers: "512MB",
  max_wal_size: "4GB",
  checkpoint_timeout: "15min",
  checkpoint_completion_target: "0.9",
  wal_buffers: "16MB",
};

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  const embedded = options.url
    ? undefined
    : await startEmbeddedPostgres({
        dataDir: join(options.dataDir, "postgres"),
        port: options.embeddedPort,
        logger: options.logger,
        settings: EMBEDDED_SETTINGS,
        supervise: options.isSupervised ? { onRestart: options.onEmbeddedRestart } : undefined,
      });
  try {
    const url = options.url ?? (await ensureDatabase(embedded?.url as string, EMBEDDED_DATABASE));
    // Migrations hold a lock on one connection while they run on another.
    const poolSize = Math.max(2, options.poolSize);
    const sql = createSql({ url, poolSize, connectTimeoutSeconds: options.connectTimeoutSeconds });
    const db = createDb(sql);
    await applyMigrations(sql, db).catch(async (error) => {
      await sql.end({ timeout: 1 }).catch(() => {});
      throw options.url ? databaseUrlFailure(error, options.url) : error;
    });
    return {
      url,
      sql,
      db,
      isEmbedded: embedded !== undefined,
      async close(timeoutSeconds = 5) {
        await sql.end({ timeout: timeoutSeconds });
        await embedded?.stop();
      },
    };
  } catch (error) {
    await embedded?.stop();
    throw error;
  }
}

/** Creates `name` on the server at `serverUrl` unless it exists; answers its URL. */
export async function ensureDatabase(serverUrl: string, name: string): Promise<string> {
  const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
  try {
    const [existing] = await admin`select 1 from pg_database where datname = ${name}`;
    if (!existing) await admin`create database ${admin(name)}`;
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}
