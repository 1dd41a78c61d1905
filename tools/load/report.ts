// The end-of-run report on stdout: what was run, what was sent and acknowledged, every
// failure and mismatch, and one summary line that says PASS or FAIL, for a human reading a
// terminal or a CI log grepping for it.
import type { RunReport } from "./run.ts";

export function formatReport(report: RunReport): string[] {
  const { options, stats, failures, verification } = report;
  const seconds = report.durationMs / 1000;
  const lines = [
    `mode ${options.mode}, ${options.size} vehicles + ${options.size} meters, seed ${options.seed}, ` +
      `${options.batchSize ? `batches of ${options.batchSize}` : "single requests"}, concurrency ${options.concurrency}, ${options.url}`,
  ];
  if (report.window) {
    lines.push(`window [${report.window.from.toISOString()}, ${report.window.to.toISOString()})`);
  }
  const sendingSeconds = report.sendingMs / 1000;
  const rate = report.readingsSent / Math.max(sendingSeconds, 0.001);
  lines.push(
    `sent ${report.readingsSent} readings in ${sendingSeconds.toFixed(1)} s (${Math.round(rate)} readings/s); ` +
      `run ${seconds.toFixed(1)} s, ${stats.sent} requests in all (links, writes, checks, ${stats.retries} retries): ` +
      `2xx ${stats.succeeded}, 4xx ${stats.clientErrors}, 5xx ${stats.serverErrors}, network errors ${stats.networkErrors}`,
  );
  if (options.mode === "load")
    lines.push(`worst lag behind the simulated clock: ${(report.maxLagMs / 1000).toFixed(2)} s`);
  for (const failure of failures.examples) lines.push(`failed: ${failure}`);
  if (failures.count > failures.examples.length) {
    lines.push(`... and ${failures.count - failures.examples.length} more failed requests`);
  }
  for (const mismatch of verification.mismatches) {
    lines.push(
      `mismatch: vehicle ${mismatch.vehicleId} ${mismatch.field}: expected ${mismatch.expected}, got ${mismatch.actual}`,
    );
  }
  const verdict = report.isSuccess ? "PASS" : "FAIL";
  lines.push(
    `${verdict}: ${verification.vehicles - countVehicles(report)} of ${verification.vehicles} vehicles match, ` +
      `${verification.mismatches.length} mismatches, ${failures.count} failed requests`,
  );
  return lines;
}

/** Vehicles with at least one mismatch (one vehicle can differ in several fields). */
function countVehicles(report: RunReport): number {
  return new Set(report.verification.mismatches.map((mismatch) => mismatch.vehicleId)).size;
}
