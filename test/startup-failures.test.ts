// A start that cannot succeed stops with one line on stderr naming the setting to change,
// never a stack trace: bad settings, a port in use (found before the database starts), a
// DATABASE_URL that cannot be used, a DATA_DIR that cannot hold the database.
import { afterAll, describe, expect, it, setDefaultTimeout } from "bun:test";
import { existsSync } from "node:fs";
import { rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createTestDatabase } from "./support/database.ts";
import { freePort, holdPort, SERVER_URL_VARIABLE } from "./support/server.ts";
import { makeDataDir, spawnService } from "./support/service.ts";

// Each case starts a real process; on a busy machine that alone can take seconds.
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

/** Starts the service with env, expects exit code 1, and answers its one stderr line. */
async function failedStart(env: Record<string, string>): Promise<string> {
  const child = spawnService({ PORT: String(await freePort()), ...env });
  expect(await child.exited).toBe(1);
  const lines = (await new Response(child.stderr).text()).trim().split("\n");
  expect(lines).toHaveLength(1);
  const [line] = lines as [string];
  expect(line).toStartWith("fleet-telemetry failed to start: ");
  expect(line).not.toContain("    at "); // a message, not a stack trace
  return line;
}

async function scratchDataDir() {
  const dir = await makeDataDir("fleet-startup-");
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

describe("a start that cannot succeed", () => {
  it("names every bad setting on one line", async () => {
    const line = await failedStart({ PORT: "eighty", LOG_LEVEL: "loud" });
    expect(line).toContain("PORT");
    expect(line).toContain("LOG_LEVEL");
  });

  it("names PORT when the port is in use, before starting the database", async () => {
    const port = await heldPort();
    const dataDir = await scratchDataDir();
    const line = await failedStart({ PORT: String(port), HOST: "127.0.0.1", DATA_DIR: dataDir });
    expect(line).toContain(`port ${port} on 127.0.0.1 is already in use`);
    expect(line).toContain("set PORT");
    expect(existsSync(join(dataDir, "postgres"))).toBe(false); // no database was started
  });

  it("names HOST when it is no address of this machine", async () => {
    expect(await failedStart({ HOST: "no-such-host.invalid" })).toContain("set HOST");
  });

  it("names DATABASE_URL when nothing listens there, without its password", async () => {
    const port = await freePort();
    const line = await failedStart({ DATABASE_URL: `postgres://fleet:s3cret-pw@127.0.0.1:${port}/fleet` });
    expect(line).toContain(`DATABASE_URL names (fleet@127.0.0.1:${port}/fleet)`);
    expect(line).toContain("nothing accepts connections");
    expect(line).not.toContain("s3cret-pw");
  });

  it("names DATABASE_URL when the server refuses its login", async () => {
    // A role that does not exist is refused by any server, one that trusts local logins too.
    const url = new URL(process.env[SERVER_URL_VARIABLE] as string);
    url.username = "no_such_role";
    url.password = "wrong-password";
    const line = await failedStart({ DATABASE_URL: url.toString() });
    expect(line).toContain("refused the login");
    expect(line).toContain("correct the user or password in DATABASE_URL");
    expect(line).not.toContain("wrong-password");
  });

  it("names DATABASE_URL when its database does not exist", async () => {
    const database = await createTestDatabase();
    cleanups.push(() => database.drop());
    const url = new URL(database.url);
    url.pathname = "/no_such_database";
    const line = await failedStart({ DATABASE_URL: url.toString() });
    expect(line).toContain("the database does not exist");
    expect(line).toContain("DATABASE_URL");
  });

  it("names DATA_DIR when a file is in its way", async () => {
    const dir = await scratchDataDir();
    const file = join(dir, "a-file");
    await writeFile(file, "not a directory");
    const line = await failedStart({ DATA_DIR: file });
    expect(line).toContain(`cannot keep its data in ${file}/postgres`);
    expect(line).toContain("set DATA_DIR");
  });

  it("names DATA_DIR when it cannot be made", async () => {
    const line = await failedStart({ DATA_DIR: "/proc/fleet-telemetry" });
    expect(line).toContain("/proc/fleet-telemetry/postgres");
    expect(line).toContain("set DATA_DIR");
  });
});
