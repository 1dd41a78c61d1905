// The Bun entry point: config -> database -> migrate -> partitions -> writer -> rollup
// aggregator -> serve.
// On SIGINT/SIGTERM it stops taking requests, lets those in flight finish, flushes and
// commits the write queue, then closes the pool and the embedded database. A second
// signal changes nothing: acknowledged writes are already committed, pending ones are
// still being committed, and the shutdown deadline bounds how long that may take.
import { hostname } from "node:os";
import { FleetCache } from "./analytics/fleet-cache.ts";
import { createApp } from "./app.ts";
import { KeyStore } from "./auth/keys.ts";
import { TokenBuckets } from "./auth/rate-limit.ts";
import { type Config, ConfigError, loadConfig } from "./config.ts";
import { bundleDashboard } from "./dashboard/bundle.ts";
import { createSql, type Sql } from "./db/client.ts";
import { type Database, openDatabase } from "./db/database.ts";
import { createLogger, type Logger } from "./log.ts";
import { createMetrics, type Metrics } from "./observability/metrics.ts";
import { loadReferenceScript } from "./openapi/reference-script.ts";
import { retentionHorizon, scheduleMaintenance } from "./partitions/maintenance.ts";
import { Partitions } from "./partitions/partitions.ts";
import { Aggregator } from "./rollups/aggregator.ts";
import { BacklogGate } from "./rollups/backlog.ts";
import { createGroupCommitWriter } from "./telemetry/group-commit-writer.ts";
import { createDirectWriter, type TelemetryWriter } from "./telemetry/writer.ts";

function createWriter(
  config: Config,
  sql: Sql,
  partitions: Partitions,
  metrics: Metrics,
  log: Logger,
): TelemetryWriter {
  if (config.WRITE_MODE === "direct") return createDirectWriter(sql, partitions);
  return createGroupCommitWriter(sql, partitions, {
    maxQueued: config.WRITE_QUEUE_LIMIT,
    maxFlush: config.WRITE_FLUSH_MAX,
    flushConcurrency: config.WRITE_FLUSH_CONCURRENCY,
    onFlush: ({ readings, durationMs, error }) => {
      metrics.flushReadings.observe(readings);
      metrics.flushDuration.observe({ result: error ? "failed" : "committed" }, durationMs / 1000);
      if (error) log.error({ err: error, readings, durationMs }, "write flush failed; its requests got 503");
    },
  });
}

async function startServing(config: Config, log: Logger, database: Database) {
  const now = () => new Date();
  const partitions = new Partitions(database.sql);
  const maintenance = scheduleMaintenance({
    sql: database.sql,
    partitions,
    now,
    monthsAhead: config.PARTITION_MONTHS_AHEAD,
    retentionMonths: config.RETENTION_MONTHS,
    log,
  });
  await maintenance.first;

  // The queue-depth gauge reads the writer when scraped, by then long created.
  const metrics = createMetrics({
    sql: database.sql,
    poolSize: config.DATABASE_POOL_SIZE,
    queued: () => writer.queued(),
  });
  const writer = createWriter(config, database.sql, partitions, metrics, log);

  let keys: KeyStore | undefined;
  if (config.API_MASTER_KEY) {
    keys = new KeyStore(database.db, database.sql, config.API_MASTER_KEY);
    await keys.listen();
  } else {
    log.warn(
      "API_MASTER_KEY is not set: the service is OPEN, every request is allowed without a key. " +
        "Set API_MASTER_KEY before exposing it to any network.",
    );
  }
  const rateLimits = config.RATE_LIMIT_PER_SECOND
    ? new TokenBuckets(config.RATE_LIMIT_PER_SECOND, config.RATE_LIMIT_BURST ?? Math.ceil(config.RATE_LIMIT_PER_SECOND))
    : undefined;

  // Without its page the service still ingests and answers: a failed build only costs the page.
  const dashboard = await bundleDashboard().catch((error) => {
    log.error({ err: error }, "the dashboard did not build; serving the API without it");
    return undefined;
  });

  const referenceScript = await loadReferenceScript().catch((error) => {
    log.warn({ err: error }, "the API reference page's script was not found; /docs loads it from Scalar's CDN");
    return undefined;
  });

  // Analytics may read from a replica; writes, state and mappings never do.
  const readSql = config.DATABASE_READ_URL
    ? createSql({
        url: config.DATABASE_READ_URL,
        poolSize: config.DATABASE_POOL_SIZE,
        connectTimeoutSeconds: config.DATABASE_CONNECT_TIMEOUT_SECONDS,
      })
    : undefined;
  // One aggregator per database: every instance runs one, the one holding its lock works.
  const aggregator = config.ROLLUP_AGGREGATOR
    ? new Aggregator({
        sql: database.sql,
        intervalMs: config.ROLLUP_INTERVAL_MS,
        takeoverMs: config.ROLLUP_TAKEOVER_MS,
        limit: config.ROLLUP_RUN_LIMIT,
        claim: config.ROLLUP_CLAIM,
        statementTimeoutMs: config.ROLLUP_STATEMENT_TIMEOUT_MS,
        holder: `${hostname()}:${process.pid}:${config.PORT}`,
        log,
        onRun: (run) => {
          metrics.rollupRuns.observe(run.durationMs / 1000);
          metrics.rollupReadings.inc(run.readings);
          metrics.rollupRows.inc({ table: "hourly" }, run.hourlyRows);
          metrics.rollupRows.inc({ table: "daily" }, run.dailyRows);
        },
      })
    : undefined;
  aggregator?.start();
  const backlog = new BacklogGate(database.sql, config.ROLLUP_PENDING_LIMIT, log);
  backlog.start();

  const app = createApp({
    sql: database.sql,
    readSql,
    fleetCache: new FleetCache(readSql ?? database.sql),
    backlog,
    thresholds: { minCoverage: config.ANALYTICS_MIN_COVERAGE, maxBatteryTemp: config.ANALYTICS_MAX_BATTERY_TEMP },
    db: database.db,
    writer,
    partitions,
    now,
    log,
    metrics,
    keys,
    rateLimits,
    corsOrigins: config.CORS_ORIGINS,
    dashboard,
    referenceScript,
    retentionHorizon: () => retentionHorizon(now(), config.RETENTION_MONTHS),
    limits: {
      maxBatchReadings: config.MAX_BATCH_READINGS,
      maxBatchBytes: config.MAX_BATCH_BYTES,
      maxNdjsonBytes: config.MAX_NDJSON_BYTES,
      maxFutureSkewSeconds: config.MAX_FUTURE_SKEW_SECONDS,
    },
  });

  const server = Bun.serve({
    hostname: config.HOST,
    port: config.PORT,
    // The peer address reaches the app as an env binding, keeping Bun's API out of it.
    fetch: (request, bunServer) => app.fetch(request, { clientAddress: bunServer.requestIP(request)?.address }),
    // A client that sends nothing for this long (a stalled upload, an abandoned keep-alive
    // connection) is cut off, so slow clients cannot pile up open connections.
    idleTimeout: 30,
    // The routes enforce their own, tighter limits; this is only the outer bound.
    maxRequestBodySize: Math.max(config.MAX_BATCH_BYTES, config.MAX_NDJSON_BYTES) + 1024,
  });
  log.info({ url: server.url.toString(), writeMode: config.WRITE_MODE }, "listening");

  return { server, writer, maintenance, readSql, aggregator, backlog };
}

async function main() {
  const config = loadConfig();
  const log = createLogger(config.LOG_LEVEL);
  if (!config.DATABASE_URL) log.info({ dataDir: config.DATA_DIR }, "no DATABASE_URL: starting the embedded PostgreSQL");

  const database = await openDatabase({
    url: config.DATABASE_URL,
    dataDir: config.DATA_DIR,
    embeddedPort: config.EMBEDDED_PG_PORT,
    poolSize: config.DATABASE_POOL_SIZE,
    connectTimeoutSeconds: config.DATABASE_CONNECT_TIMEOUT_SECONDS,
    log: (line) => log.debug({ component: "postgres" }, line),
  });
  log.info({ embedded: database.isEmbedded }, "database ready and migrated");

  // Anything failing from here on (a port in use, say) must not leave the database running.
  const started = await startServing(config, log, database).catch(async (error) => {
    await database.close().catch(() => {});
    throw error;
  });
  const { server, writer, maintenance, readSql, aggregator, backlog } = started;

  let isStopping = false;
  const stop = async (signal: string) => {
    if (isStopping) {
      log.warn({ signal }, "already shutting down; waiting for pending writes to commit");
      return;
    }
    isStopping = true;
    log.info({ signal }, "shutting down");
    const deadline = setTimeout(() => {
      log.error("shutdown took longer than SHUTDOWN_TIMEOUT_SECONDS; exiting");
      process.exit(1);
    }, config.SHUTDOWN_TIMEOUT_SECONDS * 1000);
    maintenance.stop();
    // A rollup run in flight is cancelled, not waited for (its readings stay pending for
    // the next holder), so no backend goes on running it after the pool has closed.
    const aggregatorStopped = aggregator?.stop();
    await server.stop(false);
    await writer.close();
    backlog.stop();
    await aggregatorStopped;
    await readSql?.end({ timeout: 5 });
    await database.close();
    clearTimeout(deadline);
    log.info("stopped");
    process.exit(0);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
}

main().catch((error) => {
  const message = error instanceof ConfigError ? error.message : (error?.stack ?? String(error));
  console.error(`fleet-telemetry failed to start: ${message}`);
  process.exit(1);
});
