// The environment, parsed once. This is the only module that takes settings from
// process.env (the embedded server's processes merely inherit it): everything else
// receives a typed Config, so a bad value stops start-up here, naming the variable.
import { z } from "zod";

// Decimal digits only: Number() would also read 0x10, 1e3 or " 80 ", values nobody means.
const integer = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, "must be a whole number written in decimal digits")
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

/** An entry a browser's Origin header can equal: scheme, host and port, no path, not even "/". */
function isOrigin(entry: string): boolean {
  try {
    return new URL(entry).origin === entry;
  } catch {
    return false;
  }
}

// A rate: decimal digits with an optional fraction (0.5), nothing Number() would also take.
const rate = () =>
  z
    .string()
    .regex(/^\d+(\.\d+)?$/, "must be a number written in decimal digits, like 5 or 0.5")
    .transform(Number);

const originSchema = z.string().refine(isOrigin, {
  error: (issue) =>
    `${String(issue.input)} is not an origin: write scheme://host[:port] in lower case, without a default port, a path or a trailing slash`,
});

/** The request limits when unset: here, and in createApp when its caller gives none. */
export const DEFAULT_LIMITS = {
  maxBatchReadings: 10_000,
  // 10,000 readings (MAX_BATCH_READINGS) take about 1.3 MB as JSON: room to spare, and a
  // body that could only be junk is refused before it is read.
  maxBatchBytes: 2 * 1024 * 1024,
  maxNdjsonBytes: 1024 * 1024 * 1024,
  maxFutureSkewSeconds: 300,
  maxLargeBatches: 4,
  backfillMaxMonths: 24,
} as const;

/** How uploads are paced and staged when unset, likewise (docs/operations.md, "Uploads"). */
export const DEFAULT_UPLOADS = {
  concurrency: 16,
  spoolMemoryBytes: 4 * 1024 * 1024,
  minBytesPerSecond: 2048,
  windowSeconds: 60,
  idleSeconds: 30,
} as const;

/** How refusals (401, 403) are limited per client address and logged, when unset. */
export const DEFAULT_REFUSALS = { perSecond: 1, burst: 20, logIntervalSeconds: 10 } as const;

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
  // Reads (analytics, hot state, admin stats, /metrics) have a pool of their own, so they
  // can never take the connections writes need.
  DATABASE_READ_POOL_SIZE: integer(1, 500).default(5),
  // How long a request waits for a connection before a 503. With either statement timeout
  // it stays below the HTTP server's 30 s idle timeout, which would cut the socket without
  // an answer: hence the maxima (9 s + 20 s).
  DATABASE_ACQUIRE_TIMEOUT_MS: integer(50, 9_000).default(5_000),
  ANALYTICS_STATEMENT_TIMEOUT_MS: integer(10, 20_000).default(15_000),
  ADMIN_STATEMENT_TIMEOUT_MS: integer(10, 20_000).default(10_000),
  DATA_DIR: z.string().min(1).default(".data"),
  EMBEDDED_PG_PORT: integer(1, 65535).default(54329),
  MAX_BATCH_READINGS: integer(1, 1_000_000).default(DEFAULT_LIMITS.maxBatchReadings),
  MAX_BATCH_BYTES: integer(1024, 1024 * 1024 * 1024).default(DEFAULT_LIMITS.maxBatchBytes),
  MAX_NDJSON_BYTES: integer(1024, 64 * 1024 * 1024 * 1024).default(DEFAULT_LIMITS.maxNdjsonBytes),
  MAX_FUTURE_SKEW_SECONDS: integer(0, 86_400).default(DEFAULT_LIMITS.maxFutureSkewSeconds),
  BACKFILL_MAX_MONTHS: integer(1, 1200).default(DEFAULT_LIMITS.backfillMaxMonths),
  UPLOAD_CONCURRENCY: integer(1, 10_000).default(DEFAULT_UPLOADS.concurrency),
  UPLOAD_SPOOL_MEMORY_BYTES: integer(0, 1024 * 1024 * 1024).default(DEFAULT_UPLOADS.spoolMemoryBytes),
  UPLOAD_SPOOL_DIR: z.string().min(1).optional(),
  UPLOAD_MIN_BYTES_PER_SECOND: integer(0, 1024 * 1024 * 1024).default(DEFAULT_UPLOADS.minBytesPerSecond),
  UPLOAD_RATE_WINDOW_SECONDS: integer(1, 3600).default(DEFAULT_UPLOADS.windowSeconds),
  UPLOAD_IDLE_SECONDS: integer(1, 3600).default(DEFAULT_UPLOADS.idleSeconds),
  PARTITION_LOCK_TIMEOUT_MS: integer(10, 600_000).default(1_000),
  SHUTDOWN_TIMEOUT_SECONDS: integer(1, 600).default(15),
  RETENTION_MONTHS: integer(1, 1200).optional(),
  PARTITION_MONTHS_AHEAD: integer(0, 24).default(2),
  // A bearer token is one run of non-space characters; a key with a space could never be sent.
  API_MASTER_KEY: z
    .string()
    .regex(/^\S+$/, "must not contain spaces or other whitespace")
    .min(16, "must be at least 16 characters")
    .optional(),
  RATE_LIMIT_PER_SECOND: rate().pipe(z.number().positive("must be more than 0 (unset it for no limit)")).optional(),
  RATE_LIMIT_BURST: integer(1, 1_000_000).optional(),
  // 0 turns the refusal limit off.
  REFUSAL_LIMIT_PER_SECOND: rate().default(DEFAULT_REFUSALS.perSecond),
  REFUSAL_LIMIT_BURST: integer(1, 1_000_000).default(DEFAULT_REFUSALS.burst),
  REFUSAL_LOG_INTERVAL_SECONDS: integer(0, 3_600).default(DEFAULT_REFUSALS.logIntervalSeconds),
  CLIENT_ADDRESS_HEADER: z
    .string()
    .regex(/^[A-Za-z0-9-]+$/, "must be a header name, like X-Forwarded-For or X-Real-IP")
    .optional(),
  CORS_ORIGINS: z
    .string()
    .transform((list) =>
      list
        .split(",")
        .map((origin) => origin.trim())
        .filter(Boolean),
    )
    .pipe(z.array(originSchema))
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
  // JSON batches over 256 KiB parsed, checked and written at once; past it, 503 busy.
  MAX_CONCURRENT_LARGE_BATCHES: integer(1, 256).default(DEFAULT_LIMITS.maxLargeBatches),
  METRICS_TOKEN: z.string().trim().min(16, "must be at least 16 characters").optional(),
  METRICS_CACHE_MS: integer(0, 60_000).default(5_000),
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
