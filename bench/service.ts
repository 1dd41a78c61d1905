// Starts the service the way an operator would (`bun src/index.ts`, configured only by
// environment variables) on a fresh embedded PostgreSQL in a temporary directory, or on a
// fresh database of a PostgreSQL server the operator names (`--postgres`), and stops it
// the way an operator would (SIGTERM, then wait), dropping that database. Its stdout and stderr go to
// files in that directory, so a failure under load can be shown with the service's logs.
import { closeSync, openSync } from "node:fs";
import { chmod, lstat, mkdtemp, readFile, realpath, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import postgres from "postgres";
import { findFreePort } from "./free-port.ts";

const READY_TIMEOUT_MS = 90_000;
const STOP_TIMEOUT_MS = 30_000;
export const REPO_ROOT = resolve(import.meta.dir, "..");

export interface RunningService {
  url: string;
  pid: number;
  /** postgres:// URL of the service's database, for the rows-stored check. */
  databaseUrl: string;
  dataDir: string;
  hasExited: () => boolean;
  /** The last lines the service wrote to stdout and stderr. */
  readLogTail: (lines?: number) => Promise<string>;
  stop: () => Promise<void>;
}

/**
 * `serverUrl`: a PostgreSQL server (any database of it) on which to create a fresh
 * database for the run instead of starting the embedded one.
 */
export async function startService(log: (line: string) => void, serverUrl?: string): Promise<RunningService> {
  const dataDir = await mkdtemp(join(tmpdir(), "fleet-bench-"));
  // As root the embedded PostgreSQL runs as the `postgres` account, which must be able to
  // enter this directory (mkdtemp makes it 0700); otherwise the cluster would be moved to
  // /var/lib and outlive the bench.
  await chmod(dataDir, 0o755);
  const port = await findFreePort();
  let pgPort = await findFreePort();
  while (pgPort === port) pgPort = await findFreePort();
  const stdoutPath = join(dataDir, "service.stdout.log");
  const stderrPath = join(dataDir, "service.stderr.log");
  const stdoutFd = openSync(stdoutPath, "w");
  const stderrFd = openSync(stderrPath, "w");

  // Pass the operator's settings through (DATABASE_POOL_SIZE, ...), except a DATABASE_URL:
  // the bench measures the service on a database of its own.
  const { DATABASE_URL: _ignored, ...inherited } = process.env;
  const server = serverUrl ? await createScratchDatabase(serverUrl) : undefined;
  const env = {
    ...inherited,
    DATA_DIR: dataDir,
    EMBEDDED_PG_PORT: String(pgPort),
    PORT: String(port),
    LOG_LEVEL: "warn",
    ...(server ? { DATABASE_URL: server.url } : {}),
  };
  const child = Bun.spawn([process.execPath, "src/index.ts"], {
    cwd: REPO_ROOT,
    env,
    stdin: "ignore",
    stdout: stdoutFd,
    stderr: stderrFd,
  });
  closeSync(stdoutFd);
  closeSync(stderrFd);
  let hasExited = false;
  child.exited.then(() => {
    hasExited = true;
  });

  const url = `http://127.0.0.1:${port}`;
  const readLogTail = async (lines = 50) => {
    const readTail = async (path: string) =>
      (await readFile(path, "utf8").catch(() => "")).split("\n").slice(-lines - 1);
    return [
      `--- service stderr (last ${lines} lines) ---`,
      ...(await readTail(stderrPath)),
      `--- service stdout (last ${lines} lines) ---`,
      ...(await readTail(stdoutPath)),
    ].join("\n");
  };
  const stop = async () => {
    if (!hasExited) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => {
        log(`service did not stop within ${STOP_TIMEOUT_MS / 1000} s of SIGTERM: SIGKILL`);
        child.kill("SIGKILL");
      }, STOP_TIMEOUT_MS);
      await child.exited;
      clearTimeout(timer);
    }
    await removeDataDir(dataDir);
    await server?.drop();
  };

  log(
    `starting the service: PORT=${port} ${server ? `DATABASE_URL=${server.name} on the given server` : `EMBEDDED_PG_PORT=${pgPort}`} DATA_DIR=${dataDir}`,
  );
  try {
    await waitUntilReady(url, () => hasExited);
    const password = server ? "" : (await readFile(join(dataDir, "postgres", "fleet-password"), "utf8")).trim();
    const databaseUrl = server?.url ?? `postgres://fleet:${encodeURIComponent(password)}@127.0.0.1:${pgPort}/fleet`;
    return { url, pid: child.pid, databaseUrl, dataDir, hasExited: () => hasExited, readLogTail, stop };
  } catch (error) {
    console.error(await readLogTail());
    await stop();
    throw error;
  }
}

async function waitUntilReady(url: string, hasExited: () => boolean): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (hasExited()) throw new Error("the service exited before it was ready");
    const status = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2000) }).then(
      (response) => response.status,
      () => 0,
    );
    if (status === 200) return;
    await Bun.sleep(250);
  }
  throw new Error(`GET /readyz did not answer 200 within ${READY_TIMEOUT_MS / 1000} s`);
}

// The cluster may sit behind a link (see src/db/embedded-postgres.ts): remove its target too.
async function removeDataDir(dataDir: string): Promise<void> {
  const cluster = join(dataDir, "postgres");
  const isLink = await lstat(cluster).then(
    (stats) => stats.isSymbolicLink(),
    () => false,
  );
  if (isLink) await rm(await realpath(cluster), { recursive: true, force: true });
  await rm(dataDir, { recursive: true, force: true });
}

/** A new, empty database on the server, named for this run, and how to drop it. */
async function createScratchDatabase(serverUrl: string) {
  const name = `fleet_bench_${process.pid}_${Date.now().toString(36)}`;
  const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`create database ${name}`);
  } finally {
    await admin.end({ timeout: 5 });
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    drop: async () => {
      const sql = postgres(serverUrl, { max: 1, onnotice: () => {} });
      try {
        await sql.unsafe(`drop database if exists ${name} with (force)`);
      } finally {
        await sql.end({ timeout: 5 });
      }
    },
  };
}
