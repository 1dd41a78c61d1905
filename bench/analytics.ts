// The analytics scenarios of `bun run bench --analytics`, on the store bench/fleet-store.ts
// built: one vehicle over 24 hours, one vehicle over 30 days, and the fleet view over 24
// hours, each measured by a small closed loop of readers WHILE the nominal ingest (333
// single readings a second, open loop) runs beside it, because that is when dashboards
// are read. The ingest is the generated fleet reporting live: device i of both kinds in
// turn, timestamped now, so its readings land in the current hour and its rollup rows are
// updated under the readers' feet, as in production.
//
// Afterwards, with the ingest stopped, a handful of answers are checked against sums
// computed directly from the raw rows (no rollups), and the fleet view's totals too.
import postgres from "postgres";
import { DAY_MS } from "../src/time.ts";
import { postJson, runClosedLoop } from "./closed-loop.ts";
import type { FleetStore } from "./fleet-store.ts";
import { type Answer, addToTally, type LoadResult, type WriteTally } from "./load-result.ts";
import { runOpenLoop } from "./open-loop.ts";
import { sampleBacklog } from "./rollup-backlog.ts";
import {
  computeThroughput,
  countFailures,
  type Figures,
  NOMINAL_RATE,
  type ScenarioInfo,
  type ScenarioRuns,
} from "./scenarios.ts";

const FLEET_CLIENTS = 1;
/** Vehicles whose performance figures are recomputed from raw rows after the runs. */
const CHECKED_VEHICLES = 5;

export interface AnalyticsContext {
  url: string;
  headers: Record<string, string>;
  databaseUrl: string;
  store: FleetStore;
}

interface AnalyticsQuery extends ScenarioInfo {
  clients: number;
  /** The path of a request, drawn afresh for every request (a random vehicle, a window ending now). */
  path: () => string;
}

const pick = <T>(items: T[]): T => items[Math.floor(Math.random() * items.length)] as T;
const performancePath = (vehicleId: string, from: Date, to: Date) =>
  `/v1/analytics/performance/${vehicleId}?from=${from.toISOString()}&to=${to.toISOString()}`;

function defineQueries(store: FleetStore, performanceClients: number[]): AnalyticsQuery[] {
  const fleet = store.vehicleIds;
  // The 30-day window is asked of vehicles that really have 30 days of readings.
  const historied = store.options.historyVehicles > 0 ? fleet.slice(0, store.options.historyVehicles) : fleet;
  const count = (n: number) => n.toLocaleString("en-US");
  const lastDays = (days: number) => () => {
    const to = new Date();
    return performancePath(pick(days > 1 ? historied : fleet), new Date(to.getTime() - days * DAY_MS), to);
  };
  const day = (clients: number): AnalyticsQuery => ({
    name: `Performance, 24 h ending now, random vehicle of ${count(fleet.length)}`,
    connections: String(clients),
    clients,
    unit: "req/s",
    target: { text: "p99 ≤ 5 ms", isMet: (figures) => figures.p99Ms <= 5 },
    path: lastDays(1),
  });
  const month = (clients: number): AnalyticsQuery => ({
    name: `Performance, 30 days ending now, random vehicle of ${count(historied.length)} with 30 days of history`,
    connections: String(clients),
    clients,
    unit: "req/s",
    target: { text: "p99 ≤ 10 ms", isMet: (figures) => figures.p99Ms <= 10 },
    path: lastDays(30),
  });
  return [
    ...performanceClients.map(day),
    ...performanceClients.map(month),
    {
      name: `Fleet view, 24 h (default window), ${count(fleet.length)} vehicles`,
      connections: String(FLEET_CLIENTS),
      clients: FLEET_CLIENTS,
      unit: "req/s",
      target: { text: "p99 ≤ 100 ms", isMet: (figures) => figures.p99Ms <= 100 },
      path: () => "/v1/analytics/fleet",
    },
  ];
}

/** Why requests got no answer in the current phase, for the log (the loops only count them). */
const transportErrors = new Map<string, number>();

async function getStatus(url: string, headers: Record<string, string>): Promise<Answer> {
  try {
    // No client-side time limit: a slow answer is a measurement, not an error.
    const response = await fetch(url, { headers, signal: AbortSignal.timeout(600_000) });
    await response.arrayBuffer(); // the whole answer is part of the latency
    return { status: response.status, readingsStored: 0, readingsDuplicate: 0 };
  } catch (error) {
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    transportErrors.set(message, (transportErrors.get(message) ?? 0) + 1);
    throw error;
  }
}

/** Reading number n of the live fleet: meter and vehicle of device n/2 in turn, timestamped now. */
function sendLiveReading(context: AnalyticsContext, n: number): Promise<Answer> {
  const { store } = context;
  const device = (n >> 1) % store.vehicleIds.length;
  const timestamp = new Date().toISOString();
  const ac = Math.floor(Math.random() * 371) / 1000;
  const [kind, reading] =
    n % 2 === 0
      ? ["meter", { meterId: store.meterIds[device], kwhConsumedAc: ac, voltage: 230, timestamp }]
      : [
          "vehicle",
          {
            vehicleId: store.vehicleIds[device],
            soc: Math.floor(Math.random() * 10_001) / 100,
            kwhDeliveredDc: Math.round(ac * 900) / 1000,
            batteryTemp: 15 + Math.floor(Math.random() * 3001) / 100,
            timestamp,
          },
        ];
  return postJson(`${context.url}/v1/telemetry/${kind}`, JSON.stringify(reading), 1, context.headers);
}

const figuresOf = (scenario: ScenarioInfo, result: LoadResult): Figures => ({
  throughput: computeThroughput(scenario, result),
  p50Ms: result.p50Ms,
  p99Ms: result.p99Ms,
});

const describeStatuses = (result: LoadResult) =>
  Object.entries(result.statusCounts)
    .map(([status, count]) => `${status}: ${count}`)
    .join(", ") + (result.unanswered ? `, unanswered: ${result.unanswered}` : "");

/**
 * Runs every analytics query for a warm-up and `runs` measured runs, each with the nominal
 * ingest in parallel; answers two rows per query: the query's, and the ingest's during it.
 * `beforeEach` runs before each query's phases (the database settles).
 */
export async function runAnalyticsScenarios(
  context: AnalyticsContext,
  options: { durationSeconds: number; warmupSeconds: number; runs: number; analyticsClients: number[] },
  tally: WriteTally,
  log: (line: string) => void,
  beforeEach: () => Promise<void>,
): Promise<ScenarioRuns[]> {
  const rows: ScenarioRuns[] = [];
  for (const query of defineQueries(context.store, options.analyticsClients)) {
    await beforeEach();
    const ingest: ScenarioInfo = {
      name: `↳ nominal ingest during it, constant ${NOMINAL_RATE.toFixed(0)} req/s (open loop)`,
      connections: "as needed",
      unit: "req/s",
    };
    const queryRuns: ScenarioRuns = { scenario: query, runs: [], failures: 0 };
    const ingestRuns: ScenarioRuns = { scenario: ingest, runs: [], failures: 0 };
    const phase = async (durationMs: number) => {
      // How much the queries had to add up beyond the rollups while they ran.
      const pendingSampler = sampleBacklog(context, 250, (backlog) => backlog.pendingReadings);
      const [reads, writes] = await Promise.all([
        runClosedLoop(query.clients, durationMs, () => getStatus(`${context.url}${query.path()}`, context.headers)),
        runOpenLoop(NOMINAL_RATE, durationMs, (n) => sendLiveReading(context, n)),
      ]);
      addToTally(tally, writes);
      for (const [message, count] of transportErrors)
        log(`${query.name}: ${count} request(s) got no answer: ${message}`);
      transportErrors.clear();
      queryRuns.failures += countFailures(reads);
      ingestRuns.failures += countFailures(writes);
      const { samples } = await pendingSampler.stop();
      const sorted = [...samples].sort((a, b) => a - b);
      const pending = { median: sorted[Math.floor(sorted.length / 2)] ?? 0, max: sorted.at(-1) ?? 0 };
      return { reads, writes, pending };
    };
    const label = `${query.name} @ ${query.connections}`;
    if (options.warmupSeconds > 0) {
      log(`${label}: warm-up ${options.warmupSeconds} s`);
      await phase(options.warmupSeconds * 1000);
    }
    for (let run = 1; run <= options.runs; run++) {
      const { reads, writes, pending } = await phase(options.durationSeconds * 1000);
      const figures = { ...figuresOf(query, reads), pendingMedian: pending.median, pendingMax: pending.max };
      const ingestFigures = figuresOf(ingest, writes);
      queryRuns.runs.push(figures);
      ingestRuns.runs.push(ingestFigures);
      log(
        `${label}: run ${run}/${options.runs}: ${figures.throughput.toFixed(1)} req/s, ` +
          `p50 ${figures.p50Ms.toFixed(2)} ms, p99 ${figures.p99Ms.toFixed(2)} ms (${describeStatuses(reads)}); ` +
          `ingest p50 ${ingestFigures.p50Ms.toFixed(2)} ms, p99 ${ingestFigures.p99Ms.toFixed(2)} ms (${describeStatuses(writes)}); ` +
          `pending readings ${pending.median} (median) / ${pending.max} (max)`,
      );
    }
    rows.push(queryRuns, ingestRuns);
  }
  return rows;
}

interface Performance {
  totalAcConsumption: number;
  totalDcDelivery: number;
  efficiencyRatio: number | null;
  avgBatteryTemp: number | null;
  dataPoints: number;
}

interface FleetTotals {
  from: string;
  to: string;
  totals: {
    totalAcConsumption: number;
    totalDcDelivery: number;
    unpaired: { dcKwh: number; acKwh: number };
    dataPoints: number;
    vehicles: number;
  };
}

export interface AnalyticsCheck {
  /** Answers compared with raw-row sums. */
  compared: number;
  mismatches: string[];
}

async function getJson<T>(context: AnalyticsContext, path: string): Promise<T> {
  const response = await fetch(`${context.url}${path}`, { headers: context.headers });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`GET ${path}: ${response.status} ${text.slice(0, 300)}`);
  return JSON.parse(text) as T;
}

const asNumber = (value: string | null) => (value === null ? null : Number(value));

/**
 * With no ingest running (the figures must not move between the answer and the check):
 * performance figures of a few vehicles over a few windows, and the fleet view's totals,
 * against the same sums taken straight from the raw rows and the links.
 */
export async function checkAnalytics(context: AnalyticsContext, log: (line: string) => void): Promise<AnalyticsCheck> {
  const { store } = context;
  const sql = postgres(context.databaseUrl, { max: 1, onnotice: () => {} });
  const mismatches: string[] = [];
  let compared = 0;
  try {
    const now = new Date();
    const span = store.end.getTime() - store.start.getTime();
    // A window with ragged edges on both sides, inside the generated readings.
    const oddFrom = new Date(store.start.getTime() + Math.floor(span * 0.13) + 23_456);
    const oddTo = new Date(store.start.getTime() + Math.floor(span * 0.87) + 7_891);
    const vehicles = [
      0,
      ...Array.from({ length: CHECKED_VEHICLES - 1 }, () => Math.floor(Math.random() * store.vehicleIds.length)),
    ];
    for (const index of vehicles) {
      const vehicleId = store.vehicleIds[index] as string;
      const windows: [string, Date, Date][] = [
        ["24 h ending now", new Date(now.getTime() - DAY_MS), now],
        ["ragged edges", oddFrom, oddTo],
      ];
      if (index < store.options.historyVehicles)
        windows.push(["30 days ending now", new Date(now.getTime() - 30 * DAY_MS), now]);
      for (const [name, from, to] of windows) {
        const answer = await getJson<Performance>(context, performancePath(vehicleId, from, to));
        const [raw] = await sql<{ ac: string; dc: string; n: number; temp: string | null; ratio: string | null }[]>`
          with links as (
            select meter_id, greatest(linked_at, ${from}::timestamptz) as f, least(unlinked_at, ${to}::timestamptz) as t
            from vehicle_meter_mapping where vehicle_id = ${vehicleId}
          ),
          ac as (
            select coalesce(sum(m.kwh_consumed_ac), 0) as ac
            from links l join meter_telemetry m on m.meter_id = l.meter_id and m.recorded_at >= l.f and m.recorded_at < l.t
          ),
          dc as (
            select coalesce(sum(kwh_delivered_dc), 0) as dc, count(*)::int as n, round(avg(battery_temp), 2) as temp
            from vehicle_telemetry
            where vehicle_id = ${vehicleId} and recorded_at >= ${from}::timestamptz and recorded_at < ${to}::timestamptz
          )
          select ac::text, dc::text, n, temp::text, (case when ac = 0 then null else round(dc / ac, 4) end)::text as ratio
          from ac, dc`;
        if (!raw) throw new Error("the raw-row check query answered nothing");
        const expected: Performance = {
          totalAcConsumption: Number(raw.ac),
          totalDcDelivery: Number(raw.dc),
          efficiencyRatio: asNumber(raw.ratio),
          avgBatteryTemp: asNumber(raw.temp),
          dataPoints: raw.n,
        };
        compared += 1;
        for (const field of Object.keys(expected) as (keyof Performance)[]) {
          if (answer[field] !== expected[field]) {
            mismatches.push(
              `performance of vehicle #${index} ${vehicleId}, ${name} [${from.toISOString()}, ${to.toISOString()}): ` +
                `${field} answered ${answer[field]}, raw rows give ${expected[field]}`,
            );
          }
        }
      }
    }
    log(
      `checked ${compared} performance answers against raw-row sums; now the fleet view's totals (a scan of 24 h of raw rows)`,
    );

    const fleet = await getJson<FleetTotals>(context, "/v1/analytics/fleet");
    const from = new Date(fleet.from);
    const to = new Date(fleet.to);
    const [raw] = await sql<{ ac: string; dc: string; n: number }[]>`
      select
        (select coalesce(sum(kwh_consumed_ac), 0)::text from meter_telemetry
         where recorded_at >= ${from}::timestamptz and recorded_at < ${to}::timestamptz) as ac,
        (select coalesce(sum(kwh_delivered_dc), 0)::text from vehicle_telemetry
         where recorded_at >= ${from}::timestamptz and recorded_at < ${to}::timestamptz) as dc,
        (select count(*)::int from vehicle_telemetry
         where recorded_at >= ${from}::timestamptz and recorded_at < ${to}::timestamptz) as n`;
    if (!raw) throw new Error("the raw-row fleet check answered nothing");
    compared += 1;
    // Paired plus unpaired is every reading of the window, on a fleet where no meter feeds
    // two vehicles at once (docs/design.md, "Paired energy").
    const { totals } = fleet;
    const kwh = (value: number) => Math.round(value * 1000) / 1000;
    const pairs: [string, number, number][] = [
      ["totalAcConsumption + unpaired.acKwh", kwh(totals.totalAcConsumption + totals.unpaired.acKwh), Number(raw.ac)],
      ["totalDcDelivery + unpaired.dcKwh", kwh(totals.totalDcDelivery + totals.unpaired.dcKwh), Number(raw.dc)],
      ["dataPoints", fleet.totals.dataPoints, raw.n],
    ];
    for (const [field, answered, expected] of pairs) {
      if (answered !== expected) {
        mismatches.push(
          `fleet view [${fleet.from}, ${fleet.to}): totals.${field} answered ${answered}, raw rows give ${expected}`,
        );
      }
    }
    log(
      `fleet view [${fleet.from}, ${fleet.to}): ${fleet.totals.vehicles} vehicles, AC ${fleet.totals.totalAcConsumption} kWh, ` +
        `DC ${fleet.totals.totalDcDelivery} kWh, ${fleet.totals.dataPoints} readings (raw rows: AC ${raw.ac}, DC ${raw.dc}, ${raw.n})`,
    );
    return { compared, mismatches };
  } finally {
    await sql.end({ timeout: 5 });
  }
}
