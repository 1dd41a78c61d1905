// What the figures were measured on, and which code. Throughput on 2 shared cores says
// little without it, so the report always names cores, memory, kernel, Bun, PostgreSQL
// and the commit (a bench runs the work tree, uncommitted changes included).
import { spawnSync } from "node:child_process";
import { availableParallelism, cpus, loadavg, release, totalmem } from "node:os";

export interface Machine {
  cores: number;
  cpuModel: string;
  memoryGiB: number;
  kernel: string;
  bunVersion: string;
  postgresVersion: string;
  /** 1-minute load average when the bench started: other work on the machine skews it. */
  loadAverage: number;
}

export function describeMachine(postgresVersion: string, loadAverage: number): Machine {
  // nproc honours CPU affinity and cgroup limits the way the service's threads see them.
  const nproc = Number(spawnSync("nproc", { encoding: "utf8" }).stdout?.trim());
  return {
    cores: Number.isInteger(nproc) && nproc > 0 ? nproc : availableParallelism(),
    cpuModel: cpus()[0]?.model.trim() ?? "unknown",
    memoryGiB: totalmem() / 1024 ** 3,
    kernel: release(),
    bunVersion: Bun.version,
    postgresVersion,
    loadAverage,
  };
}

export function readLoadAverage(): number {
  return loadavg()[0] ?? Number.NaN;
}

/** "abc1234", or "abc1234 + uncommitted changes" when the service's files differ from it. */
export function describeCode(repoRoot: string): string {
  const git = (...args: string[]) => spawnSync("git", args, { cwd: repoRoot, encoding: "utf8" });
  const commit = git("rev-parse", "--short", "HEAD").stdout?.trim();
  if (!commit) return "not a git checkout";
  const changes = git("status", "--porcelain", "--", "src", "drizzle", "package.json").stdout?.trim();
  return changes ? `${commit} + uncommitted changes in src/, drizzle/ or package.json` : commit;
}
