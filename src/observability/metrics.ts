// Prometheus metrics (prom-client), one registry per app so tests and several apps in one
// process never share counters. Gauges that describe state outside the process (queue
// depth, pool connections, partitions) are read when scraped, not kept up to date.
import client from "prom-client";
import { APPLICATION_NAME, type Sql } from "../db/client.ts";
import { PARTITIONED_TABLES } from "../partitions/partitions.ts";

export type Metrics = ReturnType<typeof createMetrics>;

export interface MetricSources {
  sql: Sql;
  poolSize: number;
  queued?: () => number;
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
  };

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
