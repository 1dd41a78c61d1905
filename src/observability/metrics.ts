// Prometheus metrics (prom-client), one registry per app so tests and several apps in one
// process never share counters. Gauges that describe state outside the process (queue
// depth, pool connections, partitions) are read when scraped, not kept up to date; those
// from the database are cached for a few seconds (database-gauges.ts).
import client from "prom-client";
import type { Sql } from "../db/client.ts";
import type { RollupBacklog } from "../rollups/backlog.ts";
import { databaseFigures } from "./database-gauges.ts";
import { sharedRead } from "./shared-read.ts";

export type Metrics = ReturnType<typeof createMetrics>;

export interface MetricSources {
  /** Where the database's figures are read: the read pool in production. */
  sql: Sql;
  /** The write pool's size (DATABASE_POOL_SIZE). */
  poolSize: number;
  /** The read pool's size (DATABASE_READ_POOL_SIZE), when there is one. */
  readPoolSize?: number;
  queued?: () => number;
  /** How long the database's figures are reused (METRICS_CACHE_MS); 0 when absent. */
  cacheMs?: number;
  /** Pending readings counted per table at most (ROLLUP_PENDING_LIMIT + 1 in production). */
  backlogCap?: number;
  /**
   * How long one rendering of /metrics is served to every scrape (1 s in production):
   * rendering the process metrics alone takes tens of milliseconds of the only thread.
   */
  renderCacheMs?: number;
  /** ROLLUP_PENDING_LIMIT: shown beside the backlog so alerts can take a share of it. */
  pendingLimit?: number;
}

const DEFAULT_BACKLOG_CAP = 10_000_000;

export function createMetrics(sources: MetricSources) {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry });
  const registers = [registry];

  const metrics = {
    registry,
    readings: new client.Counter({
      name: "fleet_readings_total",
      help: "Readings accepted, by device kind and outcome (stored or duplicate).",
      labelNames: ["kind", "outcome"] as const,
      registers,
    }),
    rejected: new client.Counter({
      name: "fleet_readings_rejected_total",
      help: "Ingest requests refused, by endpoint kind and error code.",
      labelNames: ["kind", "reason"] as const,
      registers,
    }),
    flushReadings: new client.Histogram({
      name: "fleet_write_flush_readings",
      help: "Readings written per group commit.",
      buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000],
      registers,
    }),
    flushDuration: new client.Histogram({
      name: "fleet_write_flush_duration_seconds",
      help: "Time to write and commit one group commit.",
      labelNames: ["result"] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    }),
    httpDuration: new client.Histogram({
      name: "http_request_duration_seconds",
      help: "HTTP request duration by method, route and status.",
      labelNames: ["method", "route", "status"] as const,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    }),
    rollupRuns: new client.Histogram({
      name: "fleet_rollup_run_duration_seconds",
      help: "Time of one aggregator run in this instance (moving pending readings into the rollups).",
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    rollupReadings: new client.Counter({
      name: "fleet_rollup_readings_total",
      help: "Pending readings this instance's aggregator added to the rollups.",
      registers,
    }),
    rollupRows: new client.Counter({
      name: "fleet_rollup_rows_total",
      help: "Rollup rows those readings were added to, by table: readings / rows is how much was folded.",
      labelNames: ["table"] as const,
      registers,
    }),
    // Unlabelled, so it shows 0 from the first scrape: an alert on its increase needs a sample.
    embeddedRestarts: new client.Counter({
      name: "fleet_embedded_postgres_restarts_total",
      help: "Times the embedded PostgreSQL died and was started again by this instance (always 0 with DATABASE_URL).",
      registers,
    }),
  };

  const databaseReads = new client.Counter({
    name: "fleet_metrics_database_reads_total",
    help: "Times /metrics read its gauges from the database (at most once per METRICS_CACHE_MS).",
    registers,
  });
  const figures = databaseFigures({
    sql: sources.sql,
    cacheMs: sources.cacheMs ?? 0,
    backlogCap: sources.backlogCap ?? DEFAULT_BACKLOG_CAP,
    onRead: () => databaseReads.inc(),
  });

  // Every label set at 0 from the start: a counter with no samples after a restart would
  // leave `rate(...) == 0` empty, and the no-readings alert silent when nothing arrives.
  for (const kind of ["meter", "vehicle"] as const) {
    for (const outcome of ["stored", "duplicate"] as const) metrics.readings.inc({ kind, outcome }, 0);
  }

  const backlogGauge = (name: string, help: string, pick: (figures: RollupBacklog) => number | undefined) =>
    new client.Gauge({
      name,
      help,
      registers,
      async collect() {
        const backlog = (await figures()).backlog;
        const value = backlog && pick(backlog);
        if (value !== undefined) this.set(value);
      },
    });
  backlogGauge(
    "fleet_rollup_pending_readings",
    "Readings stored but not yet added to the rollups (counted up to the backlog gate's bound).",
    (figures) => figures.pendingReadings,
  );
  backlogGauge(
    "fleet_rollup_oldest_pending_seconds",
    "Age of the oldest reading not yet added to the rollups (0: none pending).",
    (figures) => figures.oldestPendingSeconds,
  );
  backlogGauge(
    "fleet_rollup_last_run_timestamp_seconds",
    "When the aggregator (of any instance) last finished a run, as a Unix time (0: never).",
    (figures) => (figures.lastRunAt === null ? 0 : Date.parse(figures.lastRunAt) / 1000),
  );

  if (sources.pendingLimit !== undefined) {
    const limit = sources.pendingLimit;
    new client.Gauge({
      name: "fleet_rollup_pending_limit",
      help: "Pending readings past which writes get 503 overloaded (ROLLUP_PENDING_LIMIT).",
      registers,
      collect() {
        this.set(limit);
      },
    });
  }
  new client.Gauge({
    name: "fleet_write_queue_depth",
    help: "Single readings waiting for a group commit.",
    registers,
    collect() {
      this.set(sources.queued?.() ?? 0);
    },
  });
  new client.Gauge({
    name: "fleet_db_pool_size",
    help: "Connections the service's pools may open, the write pool's and the read pool's together.",
    registers,
    collect() {
      this.set(sources.poolSize + (sources.readPoolSize ?? 0));
    },
  });
  new client.Gauge({
    name: "fleet_db_connections",
    help: "This service's open database connections, by state (active, idle, ...).",
    labelNames: ["state"] as const,
    registers,
    async collect() {
      const rows = (await figures()).connections;
      this.reset();
      for (const row of rows) this.set({ state: row.state }, row.count);
    },
  });
  new client.Gauge({
    name: "fleet_partitions",
    help: "Monthly partitions of each cold-store table.",
    labelNames: ["table"] as const,
    registers,
    async collect() {
      const rows = (await figures()).partitions;
      this.reset();
      for (const row of rows) this.set({ table: row.table }, row.count);
    },
  });

  /** The /metrics text, rendered once per renderCacheMs whoever scrapes. */
  const render = sharedRead(sources.renderCacheMs ?? 0, () => registry.metrics());
  return { ...metrics, render };
}
