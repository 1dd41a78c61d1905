// Prometheus metrics (prom-client), one registry per app so tests and several apps in one
// process never share counters. Gauges that describe state outside the process (queue
// depth, pool connections, partitions) are read when scraped, not kept up to date.
import client from "prom-client";
import { APPLICATION_NAME, type Sql } from "../db/client.ts";
import { PARTITIONED_TABLES } from "../partitions/partitions.ts";
import { type RollupBacklog, rollupBacklog } from "../rollups/backlog.ts";

export type Metrics = ReturnType<typeof createMetrics>;

export interface MetricSources {
  sql: Sql;
  poolSize: number;
  queued?: () => number;
}

/**
 * The backlog read once per scrape, however many gauges show it: the registry collects
 * every metric at once, so the gauges share the read in flight.
 */
function oncePerScrape<T>(read: () => Promise<T>): () => Promise<T> {
  let inFlight: Promise<T> | undefined;
  return () => {
    inFlight ??= read().finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  };
}

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

  const backlog = oncePerScrape(() => rollupBacklog(sources.sql).catch(() => undefined));
  const backlogGauge = (name: string, help: string, pick: (figures: RollupBacklog) => number | undefined) =>
    new client.Gauge({
      name,
      help,
      registers,
      async collect() {
        const figures = await backlog();
        const value = figures && pick(figures);
        if (value !== undefined) this.set(value);
      },
    });
  backlogGauge(
    "fleet_rollup_pending_readings",
    "Readings stored but not yet added to the rollups.",
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
    help: "Connections the pool may open.",
    registers,
    collect() {
      this.set(sources.poolSize);
    },
  });
  new client.Gauge({
    name: "fleet_db_connections",
    help: "This service's open database connections, by state (active, idle, ...).",
    labelNames: ["state"] as const,
    registers,
    async collect() {
      this.reset();
      const rows = await sources.sql<{ state: string; count: number }[]>`
        select coalesce(state, 'unknown') as state, count(*)::int as count
        from pg_stat_activity
        where datname = current_database() and application_name = ${APPLICATION_NAME}
        group by 1
      `.catch(() => []);
      for (const row of rows) this.set({ state: row.state }, row.count);
    },
  });
  new client.Gauge({
    name: "fleet_partitions",
    help: "Monthly partitions of each cold-store table.",
    labelNames: ["table"] as const,
    registers,
    async collect() {
      this.reset();
      const rows = await sources.sql<{ table: string; count: number }[]>`
        select parent.relname as table, count(*)::int as count
        from pg_inherits join pg_class parent on parent.oid = pg_inherits.inhparent
        where parent.relname in ${sources.sql(PARTITIONED_TABLES)}
        group by 1
      `.catch(() => []);
      for (const row of rows) this.set({ table: row.table }, row.count);
    },
  });

  return metrics;
}
