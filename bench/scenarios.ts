// The scenarios of `bun run bench` and how each is driven: single readings through wrk (or
// the built-in closed loop), batches and the nominal constant rate through the built-in
// generators. Each scenario gets a warm-up, then `runs` measured runs; every request of
// every phase, warm-up included, goes into the tally the correctness check uses.
// After every phase the bench waits for the rollups' pending backlog to empty (see
// bench/rollup-backlog.ts), so each run starts with none and is charged with its own.
import { postJson, runClosedLoop } from "./closed-loop.ts";
import { type Answer, addToTally, type LoadResult, type WriteTally } from "./load-result.ts";
import { runOpenLoop } from "./open-loop.ts";
import type { ScenarioId } from "./options.ts";
import { computePercentile, sortSamples } from "./percentiles.ts";
import { allocateTag, buildBatchBody, buildReading, type Kind } from "./readings.ts";
import {
  type BacklogContext,
  computeFolding,
  type Drain,
  sampleOldestPending,
  scrapeRollupCounters,
  waitForDrain,
} from "./rollup-backlog.ts";
import { runWrk } from "./wrk-runner.ts";

const BATCH_SIZE = 1000;
const MIXED_BATCH_CLIENTS = 4;
/** Connections of the disjoint and the shared-meter batch scenarios. */
const BURST_CLIENTS = 8;
/** 10,000 vehicles + 10,000 meters, one reading a minute each. */
const NOMINAL_DEVICES_PER_KIND = 10_000;
export const NOMINAL_RATE = (2 * NOMINAL_DEVICES_PER_KIND) / 60;
/** How often the nominal scenario asks for the age of the oldest pending reading. */
const OLDEST_PENDING_EVERY_MS = 250;
/**
 * The shared-meter scenarios advance one minute per request over all connections, ~100
 * minutes a second: they start a week back, so even a minute-long run stays in the past.
 */
const SHARED_BASE_OFFSET_SECONDS = 7 * 86_400;

export interface Figures {
  throughput: number;
  p50Ms: number;
  p99Ms: number;
  /**
   * Readings stored per second from the start of the load until the rollups' backlog was
   * empty again after it (the rate the service keeps up with, aggregation included).
   */
  sustainedPerSecond?: number;
  /** Seconds from the end of the load until nothing was pending (NaN: not within the limit). */
  drainSeconds?: number;
  /** The slowest answer of the stats while waiting for the drain: its resolution. */
  slowestPollSeconds?: number;
  /** Readings the aggregator added per rollup row it updated, over the run and its drain. */
  folding?: number;
  /** Age of the oldest pending reading, sampled during the load: p99 and max of the samples. */
  oldestPendingP99Seconds?: number;
  oldestPendingMaxSeconds?: number;
  /** Readings pending while an analytics query ran: median and max of the samples. */
  pendingMedian?: number;
  pendingMax?: number;
}

/** The median figures of the other scenarios, by id, for targets relative to them. */
export type Peers = ReadonlyMap<string, Figures>;

/** What the report shows of a scenario: its row's name, connections, unit and target. */
export interface ScenarioInfo {
  id?: ScenarioId;
  name: string;
  connections: string;
  unit: "req/s" | "readings/s";
  target?: { text: string; isMet: (figures: Figures, peers?: Peers) => boolean };
}

export interface Scenario extends ScenarioInfo {
  id: ScenarioId;
  drive: (durationMs: number) => Promise<LoadResult>;
  /** Sample the oldest pending reading's age during each run. */
  samplesOldestPending?: boolean;
}

export interface ScenarioContext {
  url: string;
  /** wrk's path, or undefined to drive single readings with the built-in generator. */
  wrk?: string;
  wrkThreads: number;
  baseSeconds: number;
  /** Extra request headers (the API key), for wrk and the built-in generators alike. */
  headers: Record<string, string>;
}

export function defineScenarios(context: ScenarioContext, ids: readonly ScenarioId[]): Scenario[] {
  const single = (id: ScenarioId, connections: number, target?: Scenario["target"]): Scenario => ({
    id,
    name: `Single readings (${context.wrk ? "wrk" : "built-in generator"})`,
    connections: String(connections),
    unit: "req/s",
    target,
    drive: (durationMs) => driveSingles(context, connections, durationMs),
  });
  const batchOf = BATCH_SIZE.toLocaleString("en-US");
  const scenarios: Scenario[] = [
    single("singles64", 64),
    single("singles", 256, {
      text: "≥ 15,000 req/s, p99 ≤ 30 ms",
      isMet: (figures) => figures.throughput >= 15_000 && figures.p99Ms <= 30,
    }),
    {
      id: "batch4",
      name: `Batches of ${batchOf} readings (half meters, half vehicles, new devices)`,
      connections: String(MIXED_BATCH_CLIENTS),
      unit: "readings/s",
      drive: (durationMs) => driveMixedBatches(context, durationMs),
    },
    {
      id: "nominal",
      name: `Nominal load, constant ${NOMINAL_RATE.toFixed(0)} req/s (open loop)`,
      connections: "as needed",
      unit: "req/s",
      target: {
        text: "p99 ≤ 10 ms, oldest pending p99 ≤ 2 s",
        isMet: (figures) => figures.p99Ms <= 10 && (figures.oldestPendingP99Seconds ?? Number.NaN) <= 2,
      },
      drive: (durationMs) => driveNominal(context, durationMs),
      samplesOldestPending: true,
    },
    {
      id: "disjoint",
      name: `Batches of ${batchOf} meter readings, disjoint meters (${batchOf} per connection, a new minute per request)`,
      connections: String(BURST_CLIENTS),
      unit: "readings/s",
      target: { text: "≥ 90,000 readings/s", isMet: (figures) => figures.throughput >= 90_000 },
      drive: (durationMs) => driveDisjointBatches(context, durationMs),
    },
    {
      id: "same1",
      name: `Batches of ${batchOf} meter readings, the same ${batchOf} meters (a new minute per request)`,
      connections: "1",
      unit: "readings/s",
      drive: (durationMs) => driveSharedBatches(context, 1, durationMs),
    },
    {
      id: "same8",
      name: `Batches of ${batchOf} meter readings, the same ${batchOf} meters (a new minute per request, shared)`,
      connections: String(BURST_CLIENTS),
      unit: "readings/s",
      target: {
        text: "≥ the same meters @ 1, ≥ 60,000 readings/s",
        isMet: (figures, peers) => {
          const single = peers?.get("same1")?.throughput;
          return figures.throughput >= 60_000 && (single === undefined || figures.throughput >= single);
        },
      },
      drive: (durationMs) => driveSharedBatches(context, BURST_CLIENTS, durationMs),
    },
  ];
  return scenarios.filter((scenario) => ids.includes(scenario.id));
}

/** Throughput of one phase: answered requests, or readings answered stored, per second. */
export function computeThroughput(scenario: ScenarioInfo, result: LoadResult): number {
  const count = scenario.unit === "readings/s" ? result.readingsStored : result.requests2xx;
  return result.seconds > 0 ? count / result.seconds : 0;
}

export interface ScenarioRuns {
  scenario: ScenarioInfo;
  runs: Figures[];
  /** Requests of the scenario (warm-up included) answered non-2xx or not at all. */
  failures: number;
}

export function countFailures(result: LoadResult): number {
  const non2xx = Object.entries(result.statusCounts).filter(([status]) => !status.startsWith("2"));
  return result.unanswered + non2xx.reduce((sum, [, count]) => sum + count, 0);
}

export interface BacklogOptions {
  context: BacklogContext;
  /** Longest wait for the backlog to empty after a load. */
  drainLimitMs: number;
}

export async function runScenario(
  scenario: Scenario,
  options: { durationSeconds: number; warmupSeconds: number; runs: number },
  backlog: BacklogOptions,
  tally: WriteTally,
  log: (line: string) => void,
): Promise<ScenarioRuns> {
  const label = `${scenario.name} @ ${scenario.connections}`;
  let failures = 0;
  if (options.warmupSeconds > 0) {
    log(`${label}: warm-up ${options.warmupSeconds} s`);
    const warmup = await scenario.drive(options.warmupSeconds * 1000);
    addToTally(tally, warmup);
    failures += countFailures(warmup);
  }
  // Whatever an earlier phase left pending is not this run's to drain.
  const leftover = await waitForDrain(backlog.context, backlog.drainLimitMs);
  if (leftover.pendingAtStart > 0) log(`${label}: ${describeDrain(leftover)} before the runs`);
  const runs: Figures[] = [];
  for (let run = 1; run <= options.runs; run++) {
    const countersBefore = await scrapeRollupCounters(backlog.context);
    const sampler = scenario.samplesOldestPending
      ? sampleOldestPending(backlog.context, OLDEST_PENDING_EVERY_MS)
      : undefined;
    const start = performance.now();
    const result = await scenario.drive(options.durationSeconds * 1000);
    // The sampler's last request may still be out: the drain is timed from now regardless.
    const stopping = sampler?.stop();
    const drain = await waitForDrain(backlog.context, backlog.drainLimitMs);
    const oldest = await stopping;
    const countersAfter = await scrapeRollupCounters(backlog.context);
    addToTally(tally, result);
    failures += countFailures(result);
    const sortedOldest = oldest ? sortSamples(oldest.samples) : undefined;
    const figures: Figures = {
      throughput: computeThroughput(scenario, result),
      p50Ms: result.p50Ms,
      p99Ms: result.p99Ms,
      sustainedPerSecond:
        drain.emptyAt === undefined ? Number.NaN : result.readingsStored / ((drain.emptyAt - start) / 1000),
      drainSeconds: drain.seconds,
      slowestPollSeconds: drain.slowestPollSeconds,
      folding: computeFolding(countersBefore, countersAfter),
      ...(sortedOldest && {
        oldestPendingP99Seconds: computePercentile(sortedOldest, 99),
        oldestPendingMaxSeconds: sortedOldest[sortedOldest.length - 1] ?? Number.NaN,
      }),
    };
    runs.push(figures);
    const statuses = Object.entries(result.statusCounts)
      .map(([status, count]) => `${status}: ${count}`)
      .join(", ");
    const oldestText = sortedOldest
      ? `, oldest pending p99 ${figures.oldestPendingP99Seconds?.toFixed(3)} s max ` +
        `${figures.oldestPendingMaxSeconds?.toFixed(3)} s (${sortedOldest.length} samples` +
        `${oldest?.failures ? `, ${oldest.failures} failed` : ""})`
      : "";
    log(
      `${label}: run ${run}/${options.runs}: ${Math.round(figures.throughput)} ${scenario.unit}, ` +
        `p50 ${figures.p50Ms.toFixed(2)} ms, p99 ${figures.p99Ms.toFixed(2)} ms (${statuses}` +
        `${result.unanswered ? `, unanswered: ${result.unanswered}` : ""}); ` +
        `${result.readingsStored} readings stored, sustained ${Math.round(figures.sustainedPerSecond ?? Number.NaN)}/s; ` +
        `${describeDrain(drain)}; folding ${figures.folding?.toFixed(2)}${oldestText}`,
    );
  }
  return { scenario, runs, failures };
}

function describeDrain(drain: Drain): string {
  const seconds = Number.isNaN(drain.seconds)
    ? "did not empty within the limit"
    : `empty after ${drain.seconds.toFixed(1)} s`;
  return `backlog ${drain.pendingAtStart} pending, ${seconds} (stats answered within ${drain.slowestPollSeconds.toFixed(2)} s)`;
}

async function driveSingles(context: ScenarioContext, connections: number, durationMs: number) {
  const tag = allocateTag();
  if (context.wrk) {
    const threads = Math.min(context.wrkThreads, connections);
    const { wrk, url, baseSeconds, headers } = context;
    return runWrk({ wrk, url, threads, connections, durationMs, tag, baseSeconds, headers });
  }
  return runClosedLoop(connections, durationMs, (client, n) => {
    const kind: Kind = n % 2 === 0 ? "meter" : "vehicle";
    return postSingle(context, kind, buildReading(tag, client, kind, n >> 1, context.baseSeconds));
  });
}

function driveMixedBatches(context: ScenarioContext, durationMs: number) {
  const tag = allocateTag();
  return runClosedLoop(MIXED_BATCH_CLIENTS, durationMs, (client, n) =>
    postJson(
      `${context.url}/v1/telemetry/batch`,
      buildBatchBody(tag, client, n, BATCH_SIZE, context.baseSeconds),
      BATCH_SIZE,
      context.headers,
    ),
  );
}

/** Each connection on its own 1,000 meters, request n of it at minute n: no two overlap. */
function driveDisjointBatches(context: ScenarioContext, durationMs: number) {
  const tag = allocateTag();
  return runClosedLoop(BURST_CLIENTS, durationMs, (client, n) =>
    postMeterBatch(context, (i) =>
      buildReading(tag, client, "meter", n * BATCH_SIZE + i, context.baseSeconds, BATCH_SIZE),
    ),
  );
}

/**
 * Every request on the same 1,000 meters, each at the next minute of a counter shared by
 * the connections: concurrent requests write the same devices (and mostly the same hours,
 * 60 requests apart), never the same readings.
 */
function driveSharedBatches(context: ScenarioContext, clients: number, durationMs: number) {
  const tag = allocateTag();
  const baseSeconds = context.baseSeconds - SHARED_BASE_OFFSET_SECONDS;
  let nextMinute = 0;
  return runClosedLoop(clients, durationMs, () => {
    const minute = nextMinute++;
    return postMeterBatch(context, (i) =>
      buildReading(tag, 0, "meter", minute * BATCH_SIZE + i, baseSeconds, BATCH_SIZE),
    );
  });
}

function postMeterBatch(context: ScenarioContext, reading: (i: number) => object): Promise<Answer> {
  const meters = Array.from({ length: BATCH_SIZE }, (_, i) => reading(i));
  return postJson(`${context.url}/v1/telemetry/batch`, JSON.stringify({ meters }), BATCH_SIZE, context.headers);
}

function driveNominal(context: ScenarioContext, durationMs: number) {
  const tag = allocateTag();
  return runOpenLoop(NOMINAL_RATE, durationMs, (n) => {
    const kind: Kind = n % 2 === 0 ? "meter" : "vehicle";
    const reading = buildReading(tag, 0, kind, n >> 1, context.baseSeconds, NOMINAL_DEVICES_PER_KIND);
    return postSingle(context, kind, reading);
  });
}

function postSingle(context: ScenarioContext, kind: Kind, reading: object): Promise<Answer> {
  return postJson(`${context.url}/v1/telemetry/${kind}`, JSON.stringify(reading), 1, context.headers);
}
