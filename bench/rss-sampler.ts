// Samples the service process's resident memory (VmRSS in /proc/<pid>/status) every
// 500 ms while the scenarios run and keeps the peak. Only the Bun process is counted: the
// embedded PostgreSQL's own processes are the database's memory, not the service's.
import { readFileSync } from "node:fs";

const INTERVAL_MS = 500;

export interface RssSampler {
  /** Stops sampling; answers the peak in bytes (NaN when no sample could be read). */
  stop: () => number;
}

export function startRssSampler(pid: number): RssSampler {
  let peakBytes = Number.NaN;
  const sample = () => {
    const bytes = readRssBytes(pid);
    if (bytes !== undefined && !(bytes <= peakBytes)) peakBytes = bytes;
  };
  sample();
  const timer = setInterval(sample, INTERVAL_MS);
  return {
    stop: () => {
      clearInterval(timer);
      sample();
      return peakBytes;
    },
  };
}

function readRssBytes(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kib = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1];
    return kib === undefined ? undefined : Number(kib) * 1024;
  } catch {
    return undefined; // not Linux, or the process is gone
  }
}
