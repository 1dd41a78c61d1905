// Starts the service the way an operator would (`bun src/index.ts`, configured only by
// environment variables) on a fresh embedded PostgreSQL in a temporary directory, and
// stops it the way an operator would (SIGTERM, then wait). Its stdout and stderr go to
// files in that directory, so a failure under load can be shown with the service's logs.
import { closeSync, openSync } from "node:fs";
import { chmod, lstat, mkdtemp, readFile, realpath, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { findFreePort } from "./free-port.ts";

const READY_TIMEOUT_MS = 90_000;
const STOP_TIMEOUT_MS = 30_000;
export const REPO_ROOT = resolve(import.meta.dir, "..");

export interface RunningService {
  url: string;
  pid: number;
  /** postgres:// URL of the embedded database, for the rows-stored check. */
  databaseUrl: string;
  dataDir: string;
  hasExited: () => boolean;
  /** The last lines the service wrote to stdout and stderr. */
  readLogTail: (lines?: number) => Promise<string>;
  stop: () => Promise<void>;
}

export async function startService(log: (line: string) => void): Promise<RunningService> {
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
  // the bench measures the service on its own embedded database.
  const { DATABASE_URL: _ignored, ...inherited } = process.env;
  const env = {
    ...inherited,
    DATA_DIR: dataDir,
    EMBEDDED_PG_PORT: String(pgPort),
    PORT: String(port),
    LOG_LEVEL: "warn",
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
  };

  log(`starting the service: PORT=${port} EMBEDDED_PG_PORT=${pgPort} DATA_DIR=${dataDir}`);
  try {
    await waitUntilReady(url, () => hasExited);
    const password = (await readFile(join(dataDir, "postgres", "fleet-password"), "utf8")).trim();
    const databaseUrl = `postgres://fleet:${encodeURIComponent(password)}@127.0.0.1:${pgPort}/fleet`;
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
