// The three modes, start to verdict: link the pairs, send the readings (all at once, or
// paced in real time), wait for every answer, then verify against the analytics. It talks
// to the service only through the injected fetch, so tests run it against app.request().
import { countSimulatedMinutes, type RunOptions } from "./cli-options.ts";
import { type FleetReading, generateFleetReadings, MINUTE_MS } from "./fleet.ts";
import {
  createHttpClient,
  DEFAULT_RETRY_POLICY,
  describeFailure,
  type FetchLike,
  type HttpStats,
  isAcknowledged,
  type RetryPolicy,
} from "./http-client.ts";
import { createLedger } from "./ledger.ts";
import { createLimiter } from "./limiter.ts";
import { linkDevices } from "./link-devices.ts";
import { type ProgressOutput, startProgress } from "./progress.ts";
import { createReadingSender, type ReadingSender } from "./sender.ts";
import { type Verification, verifyFleet } from "./verify.ts";

export interface RunDeps {
  fetch: FetchLike;
  /** The clock that picks the default --start; the server's clock in tests. */
  now?: () => Date;
  /** Where the progress line goes; null for none. */
  progressOutput?: ProgressOutput | null;
  /** Aborting stops sending early; what was sent is still verified. */
  signal?: AbortSignal;
  retryPolicy?: RetryPolicy;
}

export interface RunReport {
  options: RunOptions;
  window: { from: Date; to: Date } | null;
  readingsSent: number;
  /** In a paced run, how late the worst minute started (sending could not keep up). */
  maxLagMs: number;
  /** From the first reading sent to the last one answered. */
  sendingMs: number;
  durationMs: number;
  stats: HttpStats;
  /** Requests that ended without a 2xx (first few described, all counted). */
  failures: { count: number; examples: string[] };
  verification: Verification;
  isSuccess: boolean;
}

const MAX_FAILURE_EXAMPLES = 20;

/** By default the run's last minute starts now: nothing lies in the server's future. */
export function chooseStart(options: RunOptions, now: Date): Date {
  if (options.start) return options.start;
  const minutes = countSimulatedMinutes(options);
  return new Date(Math.floor(now.getTime() / MINUTE_MS) * MINUTE_MS - (minutes - 1) * MINUTE_MS);
}

const sleepUntil = (atMs: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    // An abort that already happened fires no event: check it first.
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, Math.max(0, atMs - Date.now()));
    signal?.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
  });

/** Sends minute m when m / speedup real minutes have passed, until the run's time is up. */
async function sendPaced(
  readings: Iterable<FleetReading>,
  sender: ReadingSender,
  options: RunOptions,
  signal?: AbortSignal,
) {
  const startedAt = Date.now();
  const endsAt = startedAt + options.seconds * 1000;
  let currentMinute = -1;
  let sent = 0;
  let maxLagMs = 0;
  for (const reading of readings) {
    if (reading.minute !== currentMinute) {
      // A minute's partial batch goes out with its minute, not with the next one.
      await sender.flush();
      currentMinute = reading.minute;
      const dueAt = startedAt + (currentMinute * MINUTE_MS) / options.speedup;
      await sleepUntil(dueAt, signal);
      maxLagMs = Math.max(maxLagMs, Date.now() - dueAt);
    }
    if (signal?.aborted) break;
    await sender.send(reading);
    sent++;
  }
  await sender.flush();
  await sleepUntil(endsAt, signal);
  return { sent, maxLagMs };
}

async function sendAll(readings: Iterable<FleetReading>, sender: ReadingSender, signal?: AbortSignal) {
  let sent = 0;
  for (const reading of readings) {
    if (signal?.aborted) break;
    await sender.send(reading);
    sent++;
  }
  return { sent, maxLagMs: 0 };
}

export async function runLoad(options: RunOptions, deps: RunDeps): Promise<RunReport> {
  const startedAt = Date.now();
  const client = createHttpClient(options.url, deps.fetch, deps.retryPolicy ?? DEFAULT_RETRY_POLICY, options.apiKey);
  const limiter = createLimiter(options.concurrency);
  const ledger = createLedger(options.size);
  const failures = { count: 0, examples: [] as string[] };
  const onFailure = (what: string) => {
    failures.count++;
    if (failures.examples.length < MAX_FAILURE_EXAMPLES) failures.examples.push(what);
  };
  const shared = { client, limiter, ledger, seed: options.seed, onFailure };
  const sender = createReadingSender({ ...shared, batchSize: options.batchSize });
  const readings = generateFleetReadings({
    size: options.size,
    seed: options.seed,
    start: chooseStart(options, deps.now?.() ?? new Date()),
    minutes: countSimulatedMinutes(options),
  });

  const buildReport = (sending: { sent: number; maxLagMs: number }, sendingMs: number, verification: Verification) => ({
    options,
    window: ledger.window(),
    readingsSent: sending.sent * 2,
    maxLagMs: sending.maxLagMs,
    sendingMs,
    durationMs: Date.now() - startedAt,
    stats: client.stats,
    failures,
    verification,
    isSuccess: failures.count === 0 && verification.mismatches.length === 0,
  });

  // One question first, so a wrong --url fails in seconds, not after N x retries.
  const readiness = await client.request("GET", "/readyz");
  if (!isAcknowledged(readiness)) {
    onFailure(`GET /readyz: ${describeFailure(readiness)} (is the service running at ${options.url}?)`);
    return buildReport({ sent: 0, maxLagMs: 0 }, 0, { vehicles: 0, mismatches: [] });
  }

  let phase = "linking";
  const progress =
    deps.progressOutput === null ? null : startProgress(client.stats, () => phase, deps.progressOutput ?? undefined);
  try {
    // `single` links after its readings: that also exercises "a first link covers the
    // meter's whole history". The other modes link first, as a fleet would.
    if (options.mode !== "single") await linkDevices(shared);
    phase = "sending";
    const sendingStartedAt = Date.now();
    const sending =
      options.mode === "load"
        ? await sendPaced(readings, sender, options, deps.signal)
        : await sendAll(readings, sender, deps.signal);
    await sender.drain();
    const sendingMs = Date.now() - sendingStartedAt;
    if (options.mode === "single") {
      phase = "linking";
      await linkDevices(shared);
    }
    phase = "verifying";
    const verification = await verifyFleet(shared);
    return buildReport(sending, sendingMs, verification);
  } finally {
    progress?.stop();
  }
}
