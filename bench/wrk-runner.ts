// Drives the single-reading scenarios with wrk, a C load generator that costs far less CPU
// per request than a JavaScript one: on 2 cores shared with the server and PostgreSQL,
// every cycle the generator spends is one the service does not get. wrk comes from the
// Debian package: installed (as root) only with --install-wrk; without wrk, the caller
// falls back to the built-in generator.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import type { LoadResult } from "./load-result.ts";

const SCRIPT = join(import.meta.dir, "wrk", "single.lua");
/** Extra seconds wrk keeps running after the deadline, for the script to drain its requests. */
const DRAIN_GRACE_SECONDS = 3;

/**
 * wrk's path, or undefined for the built-in generator. A missing wrk is installed only when
 * asked (--install-wrk): a benchmark does not change the host on its own.
 */
export function resolveWrk(generator: "auto" | "wrk", isInstallAsked: boolean, log: (line: string) => void) {
  const found = Bun.which("wrk") ?? (isInstallAsked ? installWrk(log) : undefined);
  if (found) return found;
  const why = isInstallAsked
    ? "wrk could not be installed"
    : "wrk is not installed (apt-get install wrk, or pass --install-wrk)";
  if (generator === "wrk") throw new Error(`--generator wrk, but ${why}`);
  log(`${why}: using the built-in generator`);
  return undefined;
}

/** Installs the Debian package; wrk's path, or undefined when that failed. */
function installWrk(log: (line: string) => void): string | undefined {
  if (process.getuid?.() !== 0) {
    log("--install-wrk: apt-get needs root");
    return undefined;
  }
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  const install = () => spawnSync("apt-get", ["install", "-y", "wrk"], { env, stdio: "ignore" }).status === 0;
  log("--install-wrk: apt-get install -y wrk");
  if (!install()) {
    log("install failed: apt-get update, then again");
    spawnSync("apt-get", ["update"], { env, stdio: "ignore" });
    install();
  }
  return Bun.which("wrk") ?? undefined;
}

export interface WrkRun {
  wrk: string;
  url: string;
  threads: number;
  connections: number;
  durationMs: number;
  tag: number;
  baseSeconds: number;
  headers: Record<string, string>;
}

export async function runWrk(run: WrkRun): Promise<LoadResult> {
  const seconds = Math.ceil(run.durationMs / 1000) + DRAIN_GRACE_SECONDS;
  const args = [
    `--threads=${run.threads}`,
    `--connections=${run.connections}`,
    `--duration=${seconds}s`,
    // Far above any answer time: wrk leaves answers slower than its timeout out of the
    // latency figures, which would flatter p99.
    "--timeout=30s",
    "--latency",
    ...Object.entries(run.headers).map(([name, value]) => `--header=${name}: ${value}`),
    `--script=${SCRIPT}`,
    run.url,
    "--",
    String(run.tag),
    String(run.durationMs),
    String(run.baseSeconds),
    // wrk gives each thread connections / threads of them and drops the remainder.
    String(Math.floor(run.connections / run.threads)),
  ];
  const child = Bun.spawn([run.wrk, ...args], { stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, exitCode] = await Promise.all([
    // wrk sleeps out its whole duration even when every thread has drained and stopped;
    // SIGINT makes it report at once instead of idling through the grace period.
    readUntilDrained(child.stdout, run.threads, () => child.kill("SIGINT")),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  if (exitCode !== 0) throw new Error(`wrk exited with ${exitCode}:\n${stdout}\n${stderr}`);
  return parseWrkOutput(stdout);
}

/** All of wrk's stdout; calls onDrained once `threads` BENCH-DRAINED lines have come. */
async function readUntilDrained(stream: ReadableStream<Uint8Array>, threads: number, onDrained: () => void) {
  const decoder = new TextDecoder();
  let text = "";
  let isSignalled = false;
  for await (const chunk of stream) {
    text += decoder.decode(chunk, { stream: true });
    if (!isSignalled && text.split("BENCH-DRAINED").length - 1 >= threads) {
      isSignalled = true;
      onDrained();
    }
  }
  return text + decoder.decode();
}

/** Reads wrk's --latency table, its error lines and the script's BENCH line. */
export function parseWrkOutput(stdout: string): LoadResult {
  const benchLine = stdout.split("\n").find((line) => line.startsWith("BENCH "));
  if (!benchLine) throw new Error(`wrk printed no BENCH line (script failed?):\n${stdout}`);
  const fields = new Map(
    benchLine
      .slice(6)
      .trim()
      .split(/\s+/)
      .map((pair) => pair.split("=") as [string, string]),
  );
  const statusCounts: Record<string, number> = {};
  for (const pair of (fields.get("statuses") ?? "").split(",").filter(Boolean)) {
    const [status, count] = pair.split(":");
    if (status && count) statusCounts[status] = Number(count);
  }
  const countStatus = (isCounted: (status: number) => boolean) =>
    Object.entries(statusCounts).reduce((sum, [status, count]) => sum + (isCounted(Number(status)) ? count : 0), 0);

  // wrk's own tally of status >= 400 must agree with the script's.
  const wrkErrors = Number(/Non-2xx or 3xx responses:\s*(\d+)/.exec(stdout)?.[1] ?? 0);
  const scriptErrors = countStatus((status) => status >= 400);
  if (wrkErrors !== scriptErrors)
    throw new Error(`wrk counted ${wrkErrors} answers >= 400, the script ${scriptErrors}`);
  // A socket error loses a request's answer; wrk then reconnects and goes on.
  // (A "timeout" was answered, only too late for wrk's latency figures: not counted here.)
  const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(stdout);
  const unanswered = socketErrors ? socketErrors.slice(1, 4).reduce((sum, value) => sum + Number(value), 0) : 0;
  return {
    seconds: Number(fields.get("window_us") ?? 0) / 1e6,
    requests2xx: countStatus((status) => status >= 200 && status < 300),
    readingsStored: statusCounts["201"] ?? 0,
    readingsDuplicate: statusCounts["200"] ?? 0,
    statusCounts,
    unanswered,
    p50Ms: readLatencyPercentile(stdout, 50),
    p99Ms: readLatencyPercentile(stdout, 99),
  };
}

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A line of the "Latency Distribution" block, e.g. "     99%   12.34ms", in milliseconds. */
function readLatencyPercentile(stdout: string, percentile: number): number {
  const match = new RegExp(`^\\s*${percentile}%\\s+([\\d.]+)(us|ms|s|m|h)\\s*$`, "m").exec(stdout);
  if (!match?.[1] || !match[2]) return Number.NaN;
  return Number(match[1]) * (UNIT_MS[match[2]] ?? Number.NaN);
}

/** "wrk debian/4.1.0-3+b2 [epoll]" or similar, for the report. */
export function readWrkVersion(wrk: string): string {
  const output = spawnSync(wrk, ["--version"], { encoding: "utf8" }).stdout ?? "";
  return /^wrk [^\n]*?(?= Copyright|$)/m.exec(output)?.[0]?.trim() ?? "wrk";
}
