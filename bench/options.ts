// Command-line flags of `bun run bench`, parsed with node:util's parseArgs (as the load
// tool and `bun run keys` do), so the benchmark adds no dependency to the service.
import { parseArgs } from "node:util";

export type GeneratorChoice = "auto" | "wrk" | "bun";

/** The ingest scenarios, by the names --scenarios takes, in the order they run. */
export const SCENARIO_IDS = ["singles64", "singles", "batch4", "nominal", "disjoint", "same1", "same8"] as const;
export type ScenarioId = (typeof SCENARIO_IDS)[number];
/** What runs without --scenarios: singles64 and batch4 are there for comparison with older reports. */
export const DEFAULT_SCENARIOS: ScenarioId[] = ["singles", "nominal", "disjoint", "same1", "same8"];

export interface BenchOptions {
  /** Seconds each measured run lasts. */
  durationSeconds: number;
  /** Measured runs per scenario; the table shows their median. */
  runs: number;
  /** Seconds of warm-up before each scenario's runs (not measured, but counted as writes). */
  warmupSeconds: number;
  /** Bench an instance that is already running instead of starting one. */
  url?: string;
  /** With --url: the database to count rows in for the correctness check. */
  databaseUrl?: string;
  /** Start the service on a fresh database of this PostgreSQL server instead of the embedded one. */
  postgresUrl?: string;
  /** Load generator for the closed-loop single-reading scenarios. */
  generator: GeneratorChoice;
  /** Install wrk (apt-get, as root) when it is missing; off: the bench never changes the host. */
  installWrk: boolean;
  /** Where the Markdown report is written as well. */
  resultsPath: string;
  /** Sent as `Authorization: Bearer <key>` when the service requires keys. */
  apiKey?: string;
  /** Build a large store (bench/fleet-store.ts) and run the analytics scenarios after the ingest ones. */
  analytics: boolean;
  /** Only the analytics scenarios: no ingest scenarios before them. */
  analyticsOnly: boolean;
  /** Vehicles (and as many meters) in the generated fleet. */
  vehicles: number;
  /** Days of one-a-minute readings for the whole generated fleet. */
  fleetDays: number;
  /** Vehicles of the fleet that also get 30 days of history, for the 30-day query. */
  historyVehicles: number;
  /** Closed-loop clients of the single-vehicle queries: one row per count. */
  analyticsClients: number[];
  /** Leave the started service and its database running after the report, until Ctrl-C. */
  keep: boolean;
  /** The ingest scenarios to run (always in the order of SCENARIO_IDS). */
  scenarios: ScenarioId[];
  /** Longest wait, after a load, for the rollups' pending backlog to empty. */
  drainLimitSeconds: number;
}

export const USAGE = `usage: bun run bench [-- flags]
  --scenarios LIST   ingest scenarios to run, comma-separated (default
                     singles,nominal,disjoint,same1,same8):
                       singles    single readings, 256 connections
                       singles64  single readings, 64 connections
                       nominal    constant 333 req/s of single readings (open loop)
                       batch4     batches of 500 meter + 500 vehicle readings, 4 connections
                       disjoint   batches of 1,000 meter readings, 8 connections, each on
                                  its own 1,000 meters, a new minute per request
                       same1      batches of 1,000 readings of the same 1,000 meters, 1
                                  connection, a new minute per request
                       same8      the same from 8 connections (a shared minute counter)
  --duration S       seconds per measured run (default 15)
  --runs N           runs per scenario, the median is reported (default 3)
  --warmup S         seconds of warm-up per scenario (default 3)
  --url URL          bench a running instance (no start/stop, no RSS)
  --database-url URL with --url: database for the rows-stored check
  --postgres URL     start the service on a fresh database of this PostgreSQL server (any
                     database of it in the URL; dropped at the end) instead of the
                     embedded one
  --generator G      auto | wrk | bun (default auto: wrk if installed, else bun)
  --install-wrk      install wrk with apt-get (as root) when it is missing, instead of
                     falling back to bun (or failing, with --generator wrk)
  --out FILE         also write the report here (default bench/results/latest.md)
  --api-key KEY      bearer key for the requests (default: $API_MASTER_KEY, if set)
  --analytics        after the ingest scenarios, generate a large store straight into the
                     database (needs the embedded database, or --database-url) and measure
                     the analytics queries while the nominal ingest runs
  --analytics-only   the analytics scenarios without the ingest ones (implies --analytics)
  --vehicles N       vehicles (and as many meters) in the generated fleet (default 10000)
  --fleet-days D     days of one-a-minute readings for the whole fleet, fractions allowed
                     (default 2: 57.6 M raw rows with 10,000 vehicles)
  --history-vehicles N  vehicles that also get 30 days of readings, asked by the 30-day
                     query (default 100; 0: every vehicle is asked, over --fleet-days only)
  --analytics-clients N[,N...]  closed-loop clients of the single-vehicle queries, a
                     row per count (default 1,4; the fleet view always has 1)
  --drain-limit S    longest wait after a load for the rollup backlog to empty (default 300)
  --keep             leave the started service and database running after the report (for
                     bun bench/explain-analytics.ts <database-url>); Ctrl-C removes them
Every flag also takes its value as --flag=value.`;

export function parseOptions(argv: string[]): BenchOptions {
  const values = readFlags(argv);
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const analyticsOnly = values["analytics-only"];
  return {
    durationSeconds: readPositive("--duration", values.duration),
    runs: Math.round(readPositive("--runs", values.runs)),
    warmupSeconds: readPositive("--warmup", values.warmup, true),
    url: values.url?.replace(/\/+$/, ""),
    databaseUrl: values["database-url"],
    postgresUrl: values.postgres,
    generator: readGenerator(values.generator),
    installWrk: values["install-wrk"],
    resultsPath: values.out,
    // The started service inherits API_MASTER_KEY, so with it set the requests need it.
    apiKey: values["api-key"] ?? (process.env.API_MASTER_KEY || undefined),
    analytics: values.analytics || analyticsOnly,
    analyticsOnly,
    vehicles: readCount("--vehicles", values.vehicles),
    fleetDays: readPositive("--fleet-days", values["fleet-days"]),
    historyVehicles: readCount("--history-vehicles", values["history-vehicles"], true),
    analyticsClients: values["analytics-clients"]
      .split(",")
      .map((text) => readCount("--analytics-clients", text.trim())),
    keep: values.keep,
    scenarios: readScenarios(values.scenarios),
    drainLimitSeconds: readPositive("--drain-limit", values["drain-limit"]),
  };
}

/** The flags as strings (defaults filled in), or an error that ends with the usage. */
function readFlags(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      strict: true,
      options: {
        scenarios: { type: "string", default: DEFAULT_SCENARIOS.join(",") },
        duration: { type: "string", default: "15" },
        runs: { type: "string", default: "3" },
        warmup: { type: "string", default: "3" },
        url: { type: "string" },
        "database-url": { type: "string" },
        postgres: { type: "string" },
        generator: { type: "string", default: "auto" },
        "install-wrk": { type: "boolean", default: false },
        out: { type: "string", default: "bench/results/latest.md" },
        "api-key": { type: "string" },
        analytics: { type: "boolean", default: false },
        "analytics-only": { type: "boolean", default: false },
        vehicles: { type: "string", default: "10000" },
        "fleet-days": { type: "string", default: "2" },
        "history-vehicles": { type: "string", default: "100" },
        "analytics-clients": { type: "string", default: "1,4" },
        "drain-limit": { type: "string", default: "300" },
        keep: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    }).values;
  } catch (error) {
    // An unknown flag, a flag without its value, a stray argument, a value given to a switch.
    throw new Error(`${error instanceof Error ? error.message : String(error)}\n${USAGE}`);
  }
}

function readScenarios(text: string): ScenarioId[] {
  const names = text
    .split(",")
    .map((name) => name.trim())
    .filter(Boolean);
  const unknown = names.filter((name) => !(SCENARIO_IDS as readonly string[]).includes(name));
  if (unknown.length > 0 || names.length === 0) {
    throw new Error(`--scenarios takes a list of ${SCENARIO_IDS.join(", ")}; got ${text}`);
  }
  return SCENARIO_IDS.filter((id) => names.includes(id));
}

function readPositive(flag: string, text: string, isZeroAllowed = false): number {
  const number = Number(text);
  const isValid = Number.isFinite(number) && (number > 0 || (isZeroAllowed && number === 0));
  if (!isValid) throw new Error(`${flag} must be a ${isZeroAllowed ? "non-negative" : "positive"} number, got ${text}`);
  return number;
}

function readCount(flag: string, text: string, isZeroAllowed = false): number {
  const number = readPositive(flag, text, isZeroAllowed);
  if (!Number.isInteger(number)) throw new Error(`${flag} must be a whole number, got ${text}`);
  return number;
}

function readGenerator(text: string): GeneratorChoice {
  if (text === "auto" || text === "wrk" || text === "bun") return text;
  throw new Error(`--generator must be auto, wrk or bun, got ${text}`);
}
