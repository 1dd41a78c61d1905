// The environment, parsed once. This is the only module that takes settings from
// process.env (the embedded server's processes merely inherit it): everything else
// receives a typed Config, so a bad value stops start-up here, naming the variable.
import { z } from "zod";

const integer = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

/** The request limits when unset: here, and in createApp when its caller gives none. */
export const DEFAULT_LIMITS = {
  maxBatchReadings: 10_000,
  maxBatchBytes: 16 * 1024 * 1024,
  maxNdjsonBytes: 1024 * 1024 * 1024,
  maxFutureSkewSeconds: 300,
} as const;

/**
 * The longest one statement of the rollup aggregator may run when unset: here, and in the
 * aggregator when its caller gives none. A run of 100,000 readings takes about a second.
 */
export const DEFAULT_ROLLUP_STATEMENT_TIMEOUT_MS = 30_000;

/** The data-quality flags' thresholds when unset, likewise. */
export const DEFAULT_THRESHOLDS = { minCoverage: 0.9, maxBatteryTemp: 60 } as const;

const configSchema = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  HOST: z.string().min(1).default("0.0.0.0"),
  PORT: integer(0, 65535).default(3000),
  LOG_LEVEL: z.enum(["debug", "info", "warn", "error", "silent"]).default("info"),
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/, error: "must be a postgres:// or postgresql:// URL" }).optional(),
  DATABASE_READ_URL: z
    .url({ protocol: /^postgres(ql)?$/, error: "must be a postgres:// or postgresql:// URL" })
    .optional(),
  // At least 2: migrations and partition maintenance hold one connection while using another.
  DATABASE_POOL_SIZE: integer(2, 500).default(10),
  DATABASE_CONNECT_TIMEOUT_SECONDS: integer(1, 120).default(5),
  DATA_DIR: z.string().min(1).default(".data"),
  EMBEDDED_PG_PORT: integer(1, 65535).default(54329),
  MAX_BATCH_READINGS: integer(1, 1_000_000).default(DEFAULT_LIMITS.maxBatchReadings),
  MAX_BATCH_BYTES: integer(1024, 1024 * 1024 * 1024).default(DEFAULT_LIMITS.maxBatchBytes),
  MAX_NDJSON_BYTES: integer(1024, 64 * 1024 * 1024 * 1024).default(DEFAULT_LIMITS.maxNdjsonBytes),
  MAX_FUTURE_SKEW_SECONDS: integer(0, 86_400).default(DEFAULT_LIMITS.maxFutureSkewSeconds),
  SHUTDOWN_TIMEOUT_SECONDS: integer(1, 600).default(15),
  RETENTION_MONTHS: integer(1, 1200).optional(),
  PARTITION_MONTHS_AHEAD: integer(0, 24).default(2),
  API_MASTER_KEY: z.string().min(16, "must be at least 16 characters").optional(),
  RATE_LIMIT_PER_SECOND: z.coerce.number().positive().optional(),
  RATE_LIMIT_BURST: integer(1, 1_000_000).optional(),
  CORS_ORIGINS: z
    .string()
    .transform((list) =>
      list
        .split(",")
        .map((origin) => origin.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.url({ error: "must be a comma-separated list of origins like https://dash.example.com" })))
    .default([]),
  ANALYTICS_MIN_COVERAGE: z.coerce.number().min(0).max(1).default(DEFAULT_THRESHOLDS.minCoverage),
  ANALYTICS_MAX_BATTERY_TEMP: z.coerce.number().min(-100).max(1000).default(DEFAULT_THRESHOLDS.maxBatteryTemp),
  WRITE_MODE: z.enum(["group", "direct"]).default("group"),
  WRITE_QUEUE_LIMIT: integer(1, 10_000_000).default(50_000),
  WRITE_FLUSH_MAX: integer(1, 100_000).default(5_000),
  WRITE_FLUSH_CONCURRENCY: integer(1, 64).default(2),
  ROLLUP_AGGREGATOR: z
    .enum(["on", "off"], { error: "must be on or off" })
    .default("on")
    .transform((value) => value === "on"),
  ROLLUP_INTERVAL_MS: integer(10, 60_000).default(200),
  ROLLUP_TAKEOVER_MS: integer(100, 600_000).default(1_000),
  ROLLUP_RUN_LIMIT: integer(1, 10_000_000).default(100_000),
  ROLLUP_CLAIM: z.enum(["delete", "mark"]).default("delete"),
  ROLLUP_PENDING_LIMIT: integer(1, 1_000_000_000).default(1_000_000),
  ROLLUP_STATEMENT_TIMEOUT_MS: integer(100, 3_600_000).default(DEFAULT_ROLLUP_STATEMENT_TIMEOUT_MS),
});

export type Config = z.infer<typeof configSchema>;

export class ConfigError extends Error {
  override name = "ConfigError";
}

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  // An empty variable means "not set", as it does for most twelve-factor services.
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ""));
  const parsed = configSchema
    .refine((config) => config.NODE_ENV !== "production" || config.API_MASTER_KEY, {
      path: ["API_MASTER_KEY"],
      message: "must be set when NODE_ENV=production (without it every request is allowed)",
    })
    .safeParse(present);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => `  ${issue.path.join(".")}: ${issue.message}`);
  throw new ConfigError(`invalid environment:\n${problems.join("\n")}`);
}
