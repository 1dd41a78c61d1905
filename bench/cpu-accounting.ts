// How much of the machine went to other work while the scenarios ran. The bench shares
// 2 cores with whatever else runs there (a test suite, another bench), and that skews
// every figure; the report says by how much instead of leaving it to guesswork.
// Ours = the bench's process tree (load generators, wrk, the service, its PostgreSQL and
// every backend, reaped children included); the machine = user + nice + system time of
// /proc/stat (interrupt time is left out: loopback traffic of our own lands there).
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

export interface CpuSnapshot {
  machineTicks: number;
  oursTicks: number;
}

export interface CpuUsage {
  /** Core-seconds used by the bench's processes. */
  ours: number;
  /** Core-seconds used by everything else (approximate: kernel threads count here). */
  others: number;
  seconds: number;
}

const ticksPerSecond = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout?.trim()) || 100;

export function takeCpuSnapshot(rootPid = process.pid): CpuSnapshot | undefined {
  try {
    const fields = readFileSync("/proc/stat", "utf8").split("\n")[0]?.trim().split(/\s+/).slice(1).map(Number) ?? [];
    const [user = 0, nice = 0, system = 0] = fields;
    return { machineTicks: user + nice + system, oursTicks: sumTreeTicks(rootPid) };
  } catch {
    return undefined; // not Linux
  }
}

export function measureCpuUsage(start: CpuSnapshot | undefined, seconds: number): CpuUsage | undefined {
  const end = takeCpuSnapshot();
  if (!start || !end) return undefined;
  const ours = (end.oursTicks - start.oursTicks) / ticksPerSecond;
  const machine = (end.machineTicks - start.machineTicks) / ticksPerSecond;
  return { ours, others: Math.max(0, machine - ours), seconds };
}

/** utime + stime of every process under rootPid, plus what their reaped children used. */
function sumTreeTicks(rootPid: number): number {
  const parents = new Map<number, number>();
  const ticks = new Map<number, number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      // The command name may hold spaces and parentheses: fields start after the last ")".
      const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      parents.set(Number(entry), Number(rest[1]));
      ticks.set(Number(entry), Number(rest[11]) + Number(rest[12]) + Number(rest[13]) + Number(rest[14]));
    } catch {
      // the process ended while we looked
    }
  }
  let total = 0;
  for (const [pid, own] of ticks) if (isDescendant(pid, rootPid, parents)) total += own;
  return total;
}

function isDescendant(pid: number, rootPid: number, parents: Map<number, number>): boolean {
  for (let current: number | undefined = pid; current !== undefined && current > 1; current = parents.get(current)) {
    if (current === rootPid) return true;
  }
  return false;
}
