// The scenarios of `bun run bench` and how each is driven: single readings through wrk (or
// the built-in closed loop), batches and the nominal constant rate through the built-in
// generators. Each scenario gets a warm-up, then `runs` measured runs; every request of
// every phase, warm-up included, goes into the tally the correctness check uses.
import { type Answer, postJson, runClosedLoop } from "./closed-loop.ts";
import { addToTally, type LoadResult, type WriteTally } from "./load-result.ts";
import { runOpenLoop } from "./open-loop.ts";
import { allocateTag, buildBatchBody, buildReading, type Kind } from "./readings.ts";
import { runWrk } from "./wrk-runner.ts";

const BATCH_SIZE = 1000;
const BATCH_CLIENTS = 4;
/** 10,000 vehicles + 10,000 meters, one reading a minute each. */
const NOMINAL_DEVICES_PER_KIND = 10_000;
export const NOMINAL_RATE = (2 * NOMINAL_DEVICES_PER_KIND) / 60;

export interface Figures {
  throughput: number;
  p50Ms: number;
  p99Ms: number;
}

/** What the report shows of a scenario: its row's name, connections, unit and target. */
export interface ScenarioInfo {
  name: string;
  connections: string;
  unit: "req/s" | "readings/s";
  target?: { text: string; isMet: (figures: Figures) => boolean };
}

export interface Scenario extends ScenarioInfo {
  drive: (durationMs: number) => Promise<LoadResult>;
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

export function defineScenarios(context: ScenarioContext): Scenario[] {
  const single = (connections: number, target?: Scenario["target"]): Scenario => ({
    name: `Single readings (${context.wrk ? "wrk" : "built-in generator"})`,
    connections: String(connections),
    unit: "req/s",
    target,
    drive: (durationMs) => driveSingles(context, connections, durationMs),
  });
  return [
    single(64),
    single(256, {
      text: "≥ 15,000 req/s, p99 ≤ 25 ms",
      isMet: (figures) => figures.throughput >= 15_000 && figures.p99Ms <= 25,
    }),
    {
      name: `Batches of ${BATCH_SIZE.toLocaleString("en-US")} readings`,
      connections: String(BATCH_CLIENTS),
      unit: "readings/s",
      target: { text: "≥ 120,000 readings/s", isMet: (figures) => figures.throughput >= 120_000 },
      drive: (durationMs) => driveBatches(context, durationMs),
    },
    {
      name: `Nominal load, constant ${NOMINAL_RATE.toFixed(0)} req/s (open loop)`,
      connections: "as needed",
      unit: "req/s",
      target: { text: "p99 ≤ 10 ms", isMet: (figures) => figures.p99Ms <= 10 },
      drive: (durationMs) => driveNominal(context, durationMs),
    },
  ];
}

/** Throughput of one phase: answered requests, or readings for batches, per second. */
export function computeThroughput(scenario: ScenarioInfo, result: LoadResult): number {
  const count = scenario.unit === "readings/s" ? result.readingsStored + result.readingsDuplicate : result.requests2xx;
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

export async function runScenario(
  scenario: Scenario,
  options: { durationSeconds: number; warmupSeconds: number; runs: number },
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
  const runs: Figures[] = [];
  for (let run = 1; run <= options.runs; run++) {
    const result = await scenario.drive(options.durationSeconds * 1000);
    addToTally(tally, result);
    failures += countFailures(result);
    const figures = { throughput: computeThroughput(scenario, result), p50Ms: result.p50Ms, p99Ms: result.p99Ms };
    runs.push(figures);
    const statuses = Object.entries(result.statusCounts)
      .map(([status, count]) => `${status}: ${count}`)
      .join(", ");
    log(
      `${label}: run ${run}/${options.runs}: ${Math.round(figures.throughput)} ${scenario.unit}, ` +
        `p50 ${figures.p50Ms.toFixed(2)} ms, p99 ${figures.p99Ms.toFixed(2)} ms (${statuses}` +
        `${result.unanswered ? `, unanswered: ${result.unanswered}` : ""})`,
    );
  }
  return { scenario, runs, failures };
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

function driveBatches(context: ScenarioContext, durationMs: number) {
  const tag = allocateTag();
  return runClosedLoop(BATCH_CLIENTS, durationMs, (client, n) =>
    postJson(
      `${context.url}/v1/telemetry/batch`,
      buildBatchBody(tag, client, n, BATCH_SIZE, context.baseSeconds),
      BATCH_SIZE,
      context.headers,
    ),
  );
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
