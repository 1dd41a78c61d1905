// A fresh, migrated database for one test file, and the app wired to it. Databases are
// cloned from the run's template (fast) and dropped when the file is done.
import { afterAll, beforeAll, expect } from "bun:test";
import { randomBytes } from "node:crypto";
import postgres from "postgres";
import { FleetCache } from "../../src/analytics/fleet-cache.ts";
import { type AppDeps, createApp } from "../../src/app.ts";
import { createDb, createSql, type Db, type Sql } from "../../src/db/client.ts";
import { Partitions } from "../../src/partitions/partitions.ts";
import { createGroupCommitWriter } from "../../src/telemetry/group-commit-writer.ts";
import { createDirectWriter, type TelemetryWriter } from "../../src/telemetry/writer.ts";
import { databaseUrl, SERVER_URL_VARIABLE, TEMPLATE_VARIABLE } from "./server.ts";

export interface TestDatabase {
  name: string;
  url: string;
  sql: Sql;
  db: Db;
  drop(): Promise<void>;
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const serverUrl = process.env[SERVER_URL_VARIABLE] as string;
  const template = process.env[TEMPLATE_VARIABLE] as string;
  const name = `${template}_${randomBytes(4).toString("hex")}`;
  const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
  await admin`create database ${admin(name)} template ${admin(template)}`;
  const url = databaseUrl(serverUrl, name);
  const sql = createSql({ url, poolSize: 8, connectTimeoutSeconds: 10 });
  return {
    name,
    url,
    sql,
    db: createDb(sql),
    async drop() {
      await sql.end({ timeout: 5 });
      await admin`drop database if exists ${admin(name)} with (force)`;
      await admin.end();
    },
  };
}

export interface TestApp {
  database: TestDatabase;
  app: ReturnType<typeof createApp>;
  writer: TelemetryWriter;
  partitions: Partitions;
  /** The fleet view's cache the app was given. */
  fleetCache: FleetCache;
  /** Errors that reached the app's 500 path: a test that sees one has found a defect. */
  unexpected: unknown[];
  /** The clock the app sees; tests move it with setNow. */
  setNow(date: Date): void;
  close(): Promise<void>;
}

export const DEFAULT_NOW = new Date("2026-03-15T12:00:00Z");

export type WriteMode = "group" | "direct";

/** The app as production wires it (group commit), or with one transaction per request. */
export async function createTestApp(
  overrides: Partial<AppDeps> = {},
  writeMode: WriteMode = "group",
): Promise<TestApp> {
  const database = await createTestDatabase();
  const partitions = new Partitions(database.sql);
  const writer =
    writeMode === "direct"
      ? createDirectWriter(database.sql, partitions)
      : createGroupCommitWriter(database.sql, partitions, { maxQueued: 10_000, maxFlush: 1_000, flushConcurrency: 2 });
  let now = DEFAULT_NOW;
  const unexpected: unknown[] = [];
  const fleetCache = new FleetCache(database.sql);
  const app = createApp({
    sql: database.sql,
    db: database.db,
    writer,
    partitions,
    fleetCache,
    now: () => now,
    onUnexpectedError: (error) => {
      unexpected.push(error);
      console.error(error);
    },
    ...overrides,
  });
  return {
    database,
    app,
    writer,
    partitions,
    fleetCache,
    unexpected,
    setNow(date) {
      now = date;
    },
    async close() {
      await writer.close();
      await database.drop();
    },
  };
}

/**
 * Registers the file's setup and teardown and answers the app they build; the handle is
 * filled in before the first test runs. Teardown also fails the file if any request
 * reached the 500 path.
 */
export function useTestApp(overrides: Partial<AppDeps> = {}, writeMode: WriteMode = "group"): TestApp {
  const handle = {} as TestApp;
  beforeAll(async () => {
    Object.assign(handle, await createTestApp(overrides, writeMode));
  });
  // Closing the pool and dropping the database can take seconds on a loaded machine.
  afterAll(async () => {
    expect(handle.unexpected).toEqual([]);
    await handle.close();
  }, 30_000);
  return handle;
}
