// The command line: `<mode> N [SECONDS]` plus flags, checked once into RunOptions. Every
// number is bounded here, so no flag can turn the tool into an unbounded request loop.
import { parseArgs } from "node:util";
import { createSeed } from "./random.ts";

export type Mode = "single" | "full" | "load";

export interface RunOptions {
  mode: Mode;
  /** Vehicles, and as many meters. */
  size: number;
  /** Real seconds of a `load` run. */
  seconds: number;
  /** Simulated minutes of a `full` run (--minutes). */
  minutes: number;
  /** Simulated minutes per real minute in a `load` run (--speedup). */
  speedup: number;
  url: string;
  concurrency: number;
  /** Readings per batch request; undefined sends one request per reading. */
  batchSize?: number;
  seed: string;
  /** Instant of the first simulated minute; undefined: so the last one ends now. */
  start?: Date;
  /** Sent as `Authorization: Bearer` on every request (--api-key, else $API_MASTER_KEY). */
  apiKey?: string;
}

export type ParsedCommandLine =
  | { kind: "run"; options: RunOptions }
  | { kind: "help" }
  | { kind: "error"; message: string };

export const USAGE = `usage: bun run load -- <mode> [args] [flags]

modes:
  single N           one reading per device for N vehicles and N meters, link them, verify
  full N             link N vehicle-meter pairs, send --minutes of readings as fast as allowed, verify
  load N SECONDS     link N pairs, then for SECONDS real seconds one reading per device per
                     simulated minute (--speedup K runs simulated time K times faster), verify

flags:
  --url URL          service base URL (default http://localhost:3000)
  --concurrency C    most requests in flight (default 64)
  --batch B          send through POST /v1/telemetry/batch, up to B readings a request
  --minutes M        simulated minutes of a full run (default 10)
  --speedup K        simulated minutes per real minute in a load run (default 1)
  --seed S           seed of device ids and readings (default: random, printed)
  --start ISO        time of the first simulated minute (default: the run ends now)
  --api-key KEY      bearer key for a keyed service (default: $API_MASTER_KEY, if set);
                     linking devices needs the admin scope, sending readings ingest, checking read`;

const MAX_DEVICES = 1_000_000;
// The analytics window may span at most 366 days.
const MAX_MINUTES = 366 * 24 * 60;
const MAX_SECONDS = 7 * 24 * 3600;

function readInteger(text: string | undefined, name: string, min: number, max: number): number {
  const value = Number(text);
  if (text === undefined || !Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${name} must be an integer from ${min} to ${max}, got ${text ?? "nothing"}`);
  }
  return value;
}

function readNumber(text: string, name: string, min: number, max: number): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new Error(`${name} must be a number from ${min} to ${max}, got ${text}`);
  }
  return value;
}

function readUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error(`--url must be an http(s) URL, got ${text}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new Error(`--url must be an http(s) URL, got ${text}`);
  }
  return url.toString();
}

function readStart(text: string): Date {
  const date = new Date(text);
  if (Number.isNaN(date.getTime())) throw new Error(`--start must be an ISO-8601 time, got ${text}`);
  return date;
}

/** Simulated minutes a run covers: one reading per device per minute. */
export function countSimulatedMinutes(options: Pick<RunOptions, "mode" | "minutes" | "seconds" | "speedup">): number {
  if (options.mode === "single") return 1;
  if (options.mode === "full") return options.minutes;
  return Math.max(1, Math.floor((options.seconds * options.speedup) / 60));
}

/** What argv (without the runtime and script) asks for, or why it cannot be run. */
export function parseCommandLine(argv: string[]): ParsedCommandLine {
  try {
    const parsed = parseOptions(argv);
    return parsed === "help" ? { kind: "help" } : { kind: "run", options: parsed };
  } catch (error) {
    return { kind: "error", message: error instanceof Error ? error.message : String(error) };
  }
}

function parseOptions(argv: string[]): RunOptions | "help" {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      url: { type: "string", default: "http://localhost:3000" },
      concurrency: { type: "string", default: "64" },
      batch: { type: "string" },
      minutes: { type: "string", default: "10" },
      speedup: { type: "string", default: "1" },
      seed: { type: "string" },
      start: { type: "string" },
      "api-key": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return "help";
  const [mode, sizeText, secondsText, ...extra] = positionals;
  if (mode !== "single" && mode !== "full" && mode !== "load") {
    throw new Error(`unknown mode ${mode ?? "(none)"}: expected single, full or load`);
  }
  const expectedCount = mode === "load" ? 3 : 2;
  if (positionals.length !== expectedCount || extra.length > 0) {
    throw new Error(mode === "load" ? "load takes N and SECONDS" : `${mode} takes N`);
  }
  const options: RunOptions = {
    mode,
    size: readInteger(sizeText, "N", 1, MAX_DEVICES),
    seconds: mode === "load" ? readInteger(secondsText, "SECONDS", 1, MAX_SECONDS) : 0,
    minutes: readInteger(values.minutes, "--minutes", 1, MAX_MINUTES),
    speedup: readNumber(values.speedup, "--speedup", 0.001, 100_000),
    url: readUrl(values.url),
    concurrency: readInteger(values.concurrency, "--concurrency", 1, 4096),
    batchSize: values.batch === undefined ? undefined : readInteger(values.batch, "--batch", 1, 10_000),
    seed: values.seed ?? createSeed(),
    start: values.start === undefined ? undefined : readStart(values.start),
    apiKey: values["api-key"] || process.env.API_MASTER_KEY || undefined,
  };
  if (countSimulatedMinutes(options) > MAX_MINUTES) {
    throw new Error(`a run may simulate at most ${MAX_MINUTES} minutes (366 days, the analytics limit)`);
  }
  return options;
}
