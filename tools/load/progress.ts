// The once-a-second progress line on stderr: requests sent, how they were answered, the
// rate and the elapsed time. On a terminal it rewrites one line (\r); into a file or a
// pipe it writes plain lines, which a log can keep.
import type { HttpStats } from "./http-client.ts";

export interface ProgressOutput {
  write(text: string): void;
  isTTY?: boolean;
}

export interface Progress {
  stop(): void;
}

export function formatProgress(stats: HttpStats, elapsedMs: number, ratePerSecond: number, label: string): string {
  const failed = stats.clientErrors + stats.serverErrors + stats.networkErrors;
  const seconds = (elapsedMs / 1000).toFixed(1);
  return (
    `${label}: sent ${stats.sent} | 2xx ${stats.succeeded} | 4xx/5xx ${failed}` +
    (stats.retries > 0 ? ` | retries ${stats.retries}` : "") +
    ` | ${Math.round(ratePerSecond)} req/s | ${seconds}s`
  );
}

export function startProgress(
  stats: HttpStats,
  label: () => string,
  output: ProgressOutput = process.stderr,
  intervalMs = 1000,
): Progress {
  const startedAt = Date.now();
  let last = { at: startedAt, sent: 0 };
  const print = (isFinal: boolean) => {
    const now = Date.now();
    // The rate over the last interval shows stalls; the final line gives the run's average.
    const rate = isFinal
      ? (stats.sent * 1000) / Math.max(1, now - startedAt)
      : ((stats.sent - last.sent) * 1000) / Math.max(1, now - last.at);
    last = { at: now, sent: stats.sent };
    const line = formatProgress(stats, now - startedAt, rate, label());
    output.write(output.isTTY ? `\r${line}\u001b[K${isFinal ? "\n" : ""}` : `${line}\n`);
  };
  const timer = setInterval(() => print(false), intervalMs);
  return {
    stop() {
      clearInterval(timer);
      print(true);
    },
  };
}
