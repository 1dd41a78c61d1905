// The operator's command-line tools as a person runs them: `bun run keys` (help, and a
// refusal of a DATA_DIR that holds no database rather than a new, empty one) and
// `bun run load` against a service that needs an API key.
import { afterAll, describe, expect, it, setDefaultTimeout } from "bun:test";
import { existsSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { createTestDatabase } from "./support/database.ts";
import { makeDataDir, startService } from "./support/service.ts";

// Each case starts real processes; on a busy machine that alone can take seconds.
setDefaultTimeout(60_000);

const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

const KEYS = new URL("../src/cli/keys.ts", import.meta.url).pathname;
const LOAD = new URL("../tools/load/index.ts", import.meta.url).pathname;

async function run(command: string[], env: Record<string, string>) {
  const child = Bun.spawn(["bun", ...command], {
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  const code = await child.exited;
  return { code, out: await new Response(child.stdout).text(), err: await new Response(child.stderr).text() };
}

describe("bun run keys", () => {
  it("prints its usage for --help and -h", async () => {
    for (const flag of ["--help", "-h"]) {
      const { code, out, err } = await run([KEYS, flag], {});
      expect(code).toBe(0);
      expect(out).toContain("bun run keys create --name NAME");
      expect(err).toBe("");
    }
  });

  it("refuses an unknown flag with its usage, not a stack trace", async () => {
    const { code, err } = await run([KEYS, "list", "--bogus"], {});
    expect(code).toBe(2);
    expect(err).toContain("usage:");
    expect(err).not.toContain("    at ");
  });

  it("refuses a DATA_DIR that holds no database, and makes none", async () => {
    const dataDir = await makeDataDir("fleet-keys-");
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const { code, out, err } = await run([KEYS, "list"], { DATA_DIR: dataDir });
    expect(code).toBe(1);
    expect(out).toBe("");
    expect(err).toContain(`no database in ${join(dataDir, "postgres")}`);
    expect(err).toContain("DATA_DIR");
    expect(existsSync(join(dataDir, "postgres", "PG_VERSION"))).toBe(false);
  });
});

describe("bun run load", () => {
  it("sends --api-key as a bearer token to a keyed service", async () => {
    const database = await createTestDatabase();
    cleanups.push(() => database.drop());
    const masterKey = "load-tool-master-key-0123456789";
    const { child, base } = await startService({ DATABASE_URL: database.url, API_MASTER_KEY: masterKey });
    cleanups.push(async () => {
      child.kill("SIGTERM");
      await child.exited;
    });
    const keyed = await run([LOAD, "single", "3", "--url", base, "--api-key", masterKey], {});
    expect(keyed.out).toContain("PASS");
    expect(keyed.code).toBe(0);

    const unkeyed = await run([LOAD, "single", "3", "--url", base], {});
    expect(unkeyed.code).toBe(1);
    expect(unkeyed.out).toContain("401");
  });
});
