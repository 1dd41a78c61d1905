// The Bun entry point: config -> the HTTP port checked -> database -> migrate -> partitions
// -> writer -> rollup aggregator -> serve. A failed start is one line on stderr (startup.ts).
// On SIGINT/SIGTERM it stops taking requests, lets those in flight finish, flushes and
// commits the write queue, then closes the pool and the embedded database. A second
// signal changes nothing: acknowledged writes are already committed, pending ones are
// still being committed, and the shutdown deadline bounds how long that may take.
import { hostname, tmpdir } from "node:os";
import { FleetCache } from "./analytics/fleet-cache.ts";
import { createApp } from "./app.ts";
import { TokenBuckets } from "./auth/rate-limit.ts";
import { RefusalLimiter } from "./auth/refusals.ts";
import { type Config, ConfigError, loadConfig } from "./config.ts";
import { bundleDashboard } from "./dashboard/bundle.ts";
import { createSql, type Sql } from "./db/client.ts";
import { type Database, openDatabase } from "./db/database.ts";
import { PoolGate } from "./db/pool-gate.ts";
import { LogSampler } from "./http/log-sampler.ts";
import { KeyStore } from "./keys/store.ts";
import { createLogger, type Logger } from "./log.ts";
import { createMetrics, type Metrics } from "./observability/metrics.ts";
import { loadReferenceScript } from "./openapi/reference-script.ts";
import { retentionHorizon, scheduleMaintenance } from "./partitions/maintenance.ts";
import { Partitions } from "./partitions/partitions.ts";
import { Aggregator } from "./rollups/aggregator.ts";
import { BacklogGate } from "./rollups/backlog.ts";
import { checkListenable, describeStartupFailure, listenFailure } from "./startup.ts";
import { createGroupCommitWriter } from "./telemetry/group-commit-writer.ts";
import { createDirectWriter, type TelemetryWriter } from "./telemetry/writer.ts";

// The aggregator's session and partition maintenance hold write-pool connections outside
// the gate: its permits are the rest.
const WRITE_POOL_HELD_OUTSIDE_GATE = 2;
const IDLE_TIMEOUT_SECONDS = 30;

function createWriter(
  config: Config,
  sql: Sql,
  partitions: Partitions,
  metrics: Metrics,
  log: Logger,
  gate: PoolGate,
): TelemetryWriter {
  if (config.WRITE_MODE === "direct") return createDirectWriter(sql, partitions, gate);
  return createGroupCommitWriter(sql, partitions, {
    gate,
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
  const partitions = new Partitions(database.sql, { lockTimeoutMs: config.PARTITION_LOCK_TIMEOUT_MS });
  const maintenance = scheduleMaintenance({
    sql: database.sql,
    partitions,
    now,
    monthsAhead: config.PARTITION_MONTHS_AHEAD,
    retentionMonths: config.RETENTION_MONTHS,
    log,
  });
  await maintenance.first;

  // Reads have their own pool on the primary, so they never take the connections writes
  // need; analytics may read from a replica instead, and never write there.
  const readPool = (url: string) =>
    createSql({
      url,
      poolSize: config.DATABASE_READ_POOL_SIZE,
      connectTimeoutSeconds: config.DATABASE_CONNECT_TIMEOUT_SECONDS,
      statementTimeoutMs: config.ANALYTICS_STATEMENT_TIMEOUT_MS,
    });
  const primaryReadSql = readPool(database.url);
  const replicaSql = config.DATABASE_READ_URL ? readPool(config.DATABASE_READ_URL) : undefined;
  const waitMs = config.DATABASE_ACQUIRE_TIMEOUT_MS;
  const writePermits = Math.max(1, config.DATABASE_POOL_SIZE - WRITE_POOL_HELD_OUTSIDE_GATE);
  const gates = {
    write: new PoolGate(writePermits, waitMs),
    read: new PoolGate(config.DATABASE_READ_POOL_SIZE, waitMs),
    analytics: replicaSql ? new PoolGate(config.DATABASE_READ_POOL_SIZE, waitMs) : undefined,
  };

  // The queue-depth gauge reads the writer when scraped, by then long created.
  const metrics = createMetrics({
    sql: primaryReadSql,
    poolSize: config.DATABASE_POOL_SIZE,
    readPoolSize: config.DATABASE_READ_POOL_SIZE,
    queued: () => writer.queued(),
    cacheMs: config.METRICS_CACHE_MS,
    renderCacheMs: Math.min(1_000, config.METRICS_CACHE_MS),
    backlogCap: config.ROLLUP_PENDING_LIMIT + 1,
    pendingLimit: config.ROLLUP_PENDING_LIMIT,
  });
  const writer = createWriter(config, database.sql, partitions, metrics, log, gates.write);

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

  const refusalLimits =
    keys && config.REFUSAL_LIMIT_PER_SECOND > 0
      ? new RefusalLimiter(new TokenBuckets(config.REFUSAL_LIMIT_PER_SECOND, config.REFUSAL_LIMIT_BURST))
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

  const readSql = replicaSql ?? primaryReadSql;
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
    primaryReadSql,
    gates,
    adminStatementTimeoutMs: config.ADMIN_STATEMENT_TIMEOUT_MS,
    metricsToken: config.METRICS_TOKEN,
    fleetCache: new FleetCache(readSql),
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
    refusalLimits,
    clientAddressHeader: config.CLIENT_ADDRESS_HEADER,
    refusalLog: new LogSampler(config.REFUSAL_LOG_INTERVAL_SECONDS * 1000),
    corsOrigins: config.CORS_ORIGINS,
    dashboard,
    referenceScript,
    retentionHorizon: () => retentionHorizon(now(), config.RETENTION_MONTHS),
    limits: {
      maxBatchReadings: config.MAX_BATCH_READINGS,
      maxBatchBytes: config.MAX_BATCH_BYTES,
      maxNdjsonBytes: config.MAX_NDJSON_BYTES,
      maxFutureSkewSeconds: config.MAX_FUTURE_SKEW_SECONDS,
      maxLargeBatches: config.MAX_CONCURRENT_LARGE_BATCHES,
      backfillMaxMonths: config.BACKFILL_MAX_MONTHS,
    },
    uploads: {
      concurrency: config.UPLOAD_CONCURRENCY,
      spoolMemoryBytes: config.UPLOAD_SPOOL_MEMORY_BYTES,
      spoolDir: config.UPLOAD_SPOOL_DIR ?? tmpdir(),
      minBytesPerSecond: config.UPLOAD_MIN_BYTES_PER_SECOND,
      windowSeconds: config.UPLOAD_RATE_WINDOW_SECONDS,
      idleSeconds: config.UPLOAD_IDLE_SECONDS,
    },
    // Upload routes turn the idle timeout below off for their request and pace the body
    // themselves (src/telemetry/upload-pace.ts). `server` is assigned before any request.
    requestTimeout: (request, seconds = IDLE_TIMEOUT_SECONDS) => server.timeout(request, seconds),
  });

  const server = serve(config, {
    hostname: config.HOST,
    port: config.PORT,
    // The peer address reaches the app as an env binding, keeping Bun's API out of it.
    fetch: (request, bunServer) => app.fetch(request, { clientAddress: bunServer.requestIP(request)?.address }),
    // Seconds before a connection that is not busy is cut, with no answer: an idle
    // keep-alive connection, a client slow to send its headers or a small body, a request
    // whose answer takes longer. uWS only counts a connection as busy once 16 KB arrive
    // within it, so this would cut any body sent slower than about 16 KB/s: the batch
    // route turns it off for its request and holds the body to UPLOAD_MIN_BYTES_PER_SECOND
    // and UPLOAD_IDLE_SECONDS itself, answering 408 when it cuts.
    idleTimeout: IDLE_TIMEOUT_SECONDS,
    // The routes enforce their own, tighter limits; this is only the outer bound.
    maxRequestBodySize: Math.max(config.MAX_BATCH_BYTES, config.MAX_NDJSON_BYTES) + 1024,
  });
  log.info({ url: server.url.toString(), writeMode: config.WRITE_MODE }, "listening");

  const closeReadPools = () => Promise.all([primaryReadSql.end({ timeout: 5 }), replicaSql?.end({ timeout: 5 })]);
  return { server, writer, maintenance, closeReadPools, aggregator, backlog, metrics };
}

/** Bun.serve, with a port taken since checkListenable told as that check tells it. */
function serve(config: Config, options: Parameters<typeof Bun.serve>[0]) {
  try {
    return Bun.serve(options);
  } catch (error) {
    throw listenFailure(config.HOST, config.PORT, error);
  }
}

/** Set once the logger exists: a failed start logs its details there at debug. */
let startupLog: Logger | undefined;

async function main() {
  const config = loadConfig();
  const log = createLogger(config.LOG_LEVEL);
  startupLog = log;
  await checkListenable(config.HOST, config.PORT);
  if (!config.DATABASE_URL) log.info({ dataDir: config.DATA_DIR }, "no DATABASE_URL: starting the embedded PostgreSQL");

  // Restarts of the embedded server are counted once the metrics exist (made with the app).
  let countRestart = () => {};
  const database = await openDatabase({
    url: config.DATABASE_URL,
    dataDir: config.DATA_DIR,
    embeddedPort: config.EMBEDDED_PG_PORT,
    poolSize: config.DATABASE_POOL_SIZE,
    connectTimeoutSeconds: config.DATABASE_CONNECT_TIMEOUT_SECONDS,
    logger: log.child({ component: "postgres" }),
    isSupervised: true,
    onEmbeddedRestart: () => countRestart(),
  });
  log.info({ embedded: database.isEmbedded }, "database ready and migrated");

  // Anything failing from here on must not leave the database running.
  const started = await startServing(config, log, database).catch(async (error) => {
    await database.close().catch(() => {});
    throw error;
  });
  const { server, writer, maintenance, closeReadPools, aggregator, backlog, metrics } = started;
  countRestart = () => metrics.embeddedRestarts.inc();

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
    await closeReadPools();
    await database.close();
    clearTimeout(deadline);
    log.info("stopped");
    process.exit(0);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
}

main().catch((error) => {
  if (!(error instanceof ConfigError)) startupLog?.debug({ err: error }, "start-up failed");
  console.error(`fleet-telemetry failed to start: ${describeStartupFailure(error)}`);
  process.exit(1);
});
