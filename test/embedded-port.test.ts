// The embedded PostgreSQL's port taken by another program: a clear refusal, and nothing left running.
// The start stops with a message naming EMBEDDED_PG_PORT, not PostgreSQL's bind error.
import { afterAll, describe, expect, it, setDefaultTimeout } from "bun:test";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { EmbeddedPortInUseError, startEmbeddedPostgres } from "../src/db/embedded-postgres.ts";
import { holdPort } from "./support/server.ts";
import { makeDataDir, spawnService } from "./support/service.ts";

// Real processes, browsers or a whole simulated fleet: seconds each on a busy machine, more than the default five.
setDefaultTimeout(30_000);

const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

/** A port some other program listens on, let go when the file is done. */
async function heldPort(): Promise<number> {
  const { port, release } = await holdPort();
  cleanups.push(release);
  return port;
}

describe("an embedded PostgreSQL port in use", () => {
  it("refuses to start, naming EMBEDDED_PG_PORT and the port", async () => {
    const port = await heldPort();
    const dataDir = await makeDataDir("fleet-port-");
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const started = startEmbeddedPostgres({ dataDir: join(dataDir, "pg"), port, isThrowaway: true });
    expect(started).rejects.toBeInstanceOf(EmbeddedPortInUseError);
    expect(started).rejects.toThrow(`Set EMBEDDED_PG_PORT to a free port (it is ${port})`);
    await started.catch(() => {});
  }, 60_000);

  it("stops `bun run start` with that message alone, exit code 1", async () => {
    const port = await heldPort();
    const dataDir = await makeDataDir("fleet-port-start-");
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const child = spawnService({ DATA_DIR: dataDir, EMBEDDED_PG_PORT: String(port) });
    expect(await child.exited).toBe(1);
    const stderr = await new Response(child.stderr).text();
    expect(stderr).toContain(`port ${port} on 127.0.0.1 is already in use by another program`);
    expect(stderr).toContain("EMBEDDED_PG_PORT");
    expect(stderr).not.toContain("    at "); // a message, not a stack trace
  }, 60_000);
});
