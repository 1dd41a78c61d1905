// Command-line flags of `bun run bench`. Parsed by hand (a dozen lines) rather than with a
// library, so the benchmark adds no dependency to the service.

export type GeneratorChoice = "auto" | "wrk" | "bun";

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
  /** Load generator for the closed-loop single-reading scenarios. */
  generator: GeneratorChoice;
  /** Where the Markdown report is written as well. */
  resultsPath: string;
  /** Sent as `Authorization: Bearer <key>` when the service requires keys. */
  apiKey?: string;
}

export const USAGE = `usage: bun run bench [-- flags]
  --duration S       seconds per measured run (default 15)
  --runs N           runs per scenario, the median is reported (default 3)
  --warmup S         seconds of warm-up per scenario (default 3)
  --url URL          bench a running instance (no start/stop, no RSS)
  --database-url URL with --url: database for the rows-stored check
  --generator G      auto | wrk | bun (default auto: wrk, installed if possible)
  --out FILE         also write the report here (default bench/results/latest.md)
  --api-key KEY      bearer key for the requests (default: $API_MASTER_KEY, if set)`;

export function parseOptions(argv: string[]): BenchOptions {
  const options: BenchOptions = {
    durationSeconds: 15,
    runs: 3,
    warmupSeconds: 3,
    generator: "auto",
    resultsPath: "bench/results/latest.md",
    // The started service inherits API_MASTER_KEY, so with it set the requests need it.
    apiKey: process.env.API_MASTER_KEY || undefined,
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const readValue = () => {
      const next = argv[++i];
      if (next === undefined) throw new Error(`${flag} needs a value\n${USAGE}`);
      return next;
    };
    if (flag === "--duration") options.durationSeconds = readPositive(flag, readValue());
    else if (flag === "--runs") options.runs = Math.round(readPositive(flag, readValue()));
    else if (flag === "--warmup") options.warmupSeconds = readPositive(flag, readValue(), true);
    else if (flag === "--url") options.url = readValue().replace(/\/+$/, "");
    else if (flag === "--database-url") options.databaseUrl = readValue();
    else if (flag === "--generator") options.generator = readGenerator(readValue());
    else if (flag === "--out") options.resultsPath = readValue();
    else if (flag === "--api-key") options.apiKey = readValue();
    else if (flag === "--help" || flag === "-h") {
      console.log(USAGE);
      process.exit(0);
    } else throw new Error(`unknown flag ${flag}\n${USAGE}`);
  }
  return options;
}

function readPositive(flag: string | undefined, text: string, isZeroAllowed = false): number {
  const number = Number(text);
  const isValid = Number.isFinite(number) && (number > 0 || (isZeroAllowed && number === 0));
  if (!isValid) throw new Error(`${flag} must be a ${isZeroAllowed ? "non-negative" : "positive"} number, got ${text}`);
  return number;
}

function readGenerator(text: string): GeneratorChoice {
  if (text === "auto" || text === "wrk" || text === "bun") return text;
  throw new Error(`--generator must be auto, wrk or bun, got ${text}`);
}
