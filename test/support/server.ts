// The PostgreSQL server the test run uses: a throwaway embedded one, or the server that
// TEST_DATABASE_URL names. Started once per run by preload.ts; each test file then gets a
// database of its own, cloned from a migrated template (see database.ts).

import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { findFreePort } from "../../bench/free-port.ts";
import { createDb, createSql } from "../../src/db/client.ts";
import { type EmbeddedPostgres, startEmbeddedPostgres } from "../../src/db/embedded-postgres.ts";
import { applyMigrations } from "../../src/db/migrate.ts";

export const SERVER_URL_VARIABLE = "FLEET_TEST_SERVER_URL";
export const TEMPLATE_VARIABLE = "FLEET_TEST_TEMPLATE";

/** A port nobody listens on (the benchmark's helper, shared). */
export const freePort = findFreePort;

export function databaseUrl(serverUrl: string, name: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function startTestServer(): Promise<{ url: string; template: string; stop: () => Promise<void> }> {
  let embedded: EmbeddedPostgres | undefined;
  let scratch: string | undefined;
  let url = process.env.TEST_DATABASE_URL;
  if (!url) {
    scratch = await mkdtemp(join(tmpdir(), "fleet-test-"));
    embedded = await startEmbeddedPostgres({
      dataDir: join(scratch, "pg"),
      port: await freePort(),
      isThrowaway: true,
      // Tests do not survive power loss; skipping fsync only makes the run faster.
      settings: { fsync: "off", synchronous_commit: "off", full_page_writes: "off" },
    });
    url = embedded.url;
  }
  const base = new URL(url).pathname.slice(1) || "postgres";
  const template = `${base}_template_${process.pid}`;
  const admin = postgres(url, { max: 1, onnotice: () => {} });
  await admin`drop database if exists ${admin(template)}`;
  await admin`create database ${admin(template)}`;
  const sql = createSql({ url: databaseUrl(url, template), poolSize: 2, connectTimeoutSeconds: 10 });
  await applyMigrations(sql, createDb(sql));
  await sql.end();

  return {
    url,
    template,
    async stop() {
      await admin`drop database if exists ${admin(template)} with (force)`.catch(() => {});
      await admin.end();
      await embedded?.stop();
      if (scratch) await rm(scratch, { recursive: true, force: true });
    },
  };
}

/** Listens on a free loopback port, as some other program would; answers the port and how to let it go. */
export async function holdPort(): Promise<{ port: number; release: () => Promise<void> }> {
  const holder: Server = createServer();
  await new Promise<void>((resolve) => holder.listen({ port: 0, host: "127.0.0.1" }, resolve));
  return {
    port: (holder.address() as { port: number }).port,
    release: () => new Promise((resolve) => holder.close(() => resolve())),
  };
}
