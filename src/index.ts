// The Bun entry point: config -> database -> migrate -> partitions -> writer -> serve.
// On SIGINT/SIGTERM it stops taking requests, lets those in flight finish (their writes
// commit before they are answered), then closes the pool and the embedded database.
import { createApp } from "./app.ts";
import { ConfigError, loadConfig } from "./config.ts";
import { openDatabase } from "./db/database.ts";
import { createLogger } from "./log.ts";
import { Partitions } from "./partitions/partitions.ts";
import { createGroupCommitWriter } from "./telemetry/group-commit-writer.ts";
import { createDirectWriter } from "./telemetry/writer.ts";

const MONTHS_AHEAD = 2;

async function main() {
  const config = loadConfig();
  const log = createLogger(config.LOG_LEVEL);

  const database = await openDatabase({
    url: config.DATABASE_URL,
    dataDir: config.DATA_DIR,
    embeddedPort: config.EMBEDDED_PG_PORT,
    poolSize: config.DATABASE_POOL_SIZE,
    connectTimeoutSeconds: config.DATABASE_CONNECT_TIMEOUT_SECONDS,
    log: (line) => log.debug({ component: "postgres" }, line),
  });
  log.info({ embedded: database.isEmbedded }, "database ready and migrated");

  const partitions = new Partitions(database.sql);
  await partitions.createAhead(new Date(), MONTHS_AHEAD);

  const writer =
    config.WRITE_MODE === "direct"
      ? createDirectWriter(database.sql, partitions)
      : createGroupCommitWriter(database.sql, partitions, {
          maxQueued: config.WRITE_QUEUE_LIMIT,
          maxFlush: config.WRITE_FLUSH_MAX,
          flushConcurrency: config.WRITE_FLUSH_CONCURRENCY,
          onFlush: ({ readings, durationMs, error }) => {
            if (error) log.error({ err: error, readings, durationMs }, "write flush failed");
          },
        });
  const app = createApp({
    sql: database.sql,
    db: database.db,
    writer,
    partitions,
    limits: {
      maxBatchReadings: config.MAX_BATCH_READINGS,
      maxBatchBytes: config.MAX_BATCH_BYTES,
      maxNdjsonBytes: config.MAX_NDJSON_BYTES,
      maxFutureSkewSeconds: config.MAX_FUTURE_SKEW_SECONDS,
    },
    onUnexpectedError: (error) => log.error({ err: error }, "unexpected error"),
  });

  const server = Bun.serve({
    hostname: config.HOST,
    port: config.PORT,
    fetch: app.fetch,
    // The routes enforce their own, tighter limits; this is only the outer bound.
    maxRequestBodySize: Math.max(config.MAX_BATCH_BYTES, config.MAX_NDJSON_BYTES) + 1024,
  });
  log.info({ url: server.url.toString() }, "listening");

  let isStopping = false;
  const stop = async (signal: string) => {
    if (isStopping) {
      log.warn({ signal }, "already shutting down; waiting for in-flight writes to commit");
      return;
    }
    isStopping = true;
    log.info({ signal }, "shutting down");
    const deadline = setTimeout(() => {
      log.error("shutdown took too long; exiting");
      process.exit(1);
    }, config.SHUTDOWN_TIMEOUT_SECONDS * 1000);
    await server.stop(false);
    await writer.close();
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
