// createApp(deps): the whole HTTP surface, wired from what it is given (database, writer,
// clock, logger, metrics) and never listening itself, so tests drive it with
// app.request() and any runtime that speaks fetch can serve it. Every thrown error leaves
// through the one onError below.
import { tmpdir } from "node:os";
import { Hono } from "hono";
import { cors } from "hono/cors";
import { adminRoutes } from "./admin/routes.ts";
import { FleetCache } from "./analytics/fleet-cache.ts";
import type { QualityThresholds } from "./analytics/quality.ts";
import { analyticsRoutes } from "./analytics/routes.ts";
import { authenticate, requireScope } from "./auth/access.ts";
import { rateLimit, type TokenBuckets } from "./auth/rate-limit.ts";
import type { RefusalLimiter } from "./auth/refusals.ts";
import { DEFAULT_LIMITS, DEFAULT_REFUSALS, DEFAULT_THRESHOLDS, DEFAULT_UPLOADS } from "./config.ts";
import { type DashboardAssets, dashboardRoutes } from "./dashboard/routes.ts";
import { createDb, type Db, type Sql } from "./db/client.ts";
import { isMigrated } from "./db/migration-state.ts";
import { holdPermit, type PoolGate } from "./db/pool-gate.ts";
import { mappingRoutes } from "./devices/mappings.ts";
import { profileRoutes } from "./devices/profiles.ts";
import { searchRoutes } from "./devices/search.ts";
import { stateRoutes } from "./devices/state.ts";
import { type ClientEnv, resolveClientAddress } from "./http/client-address.ts";
import { compressAnswers } from "./http/compression.ts";
import { AppError, databaseUnavailable, errorResponse, toAppError } from "./http/errors.ts";
import { answerHeadLikeGet } from "./http/head-requests.ts";
import { LogSampler } from "./http/log-sampler.ts";
import { assignRequestId, matchedRoute, requestContext, requestLogger } from "./http/request-context.ts";
import { keyRoutes } from "./keys/routes.ts";
import type { KeyStore, Scope } from "./keys/store.ts";
import { createLogger, type Logger } from "./log.ts";
import type { Metrics } from "./observability/metrics.ts";
import { requireMetricsToken } from "./observability/metrics-access.ts";
import { buildOpenApiDocument, type OpenApiDocument } from "./openapi/document.ts";
import { type ReferenceScript, referencePageRoutes } from "./openapi/reference-page.ts";
import { Partitions } from "./partitions/partitions.ts";
import type { BacklogGate } from "./rollups/backlog.ts";
import { ndjsonLineSchema } from "./telemetry/ndjson.ts";
import { telemetryRoutes, type UploadOptions } from "./telemetry/routes.ts";
import { readingSchemas } from "./telemetry/schemas.ts";
import type { TelemetryWriter } from "./telemetry/writer.ts";

export interface AppDeps {
  sql: Sql;
  db: Db;
  /** Where analytics read (DATABASE_READ_URL, else the read pool); writes never go there. Defaults to `sql`. */
  readSql?: Sql;
  /**
   * The read pool on the primary: hot state and admin stats, which must see every
   * acknowledged write, without taking the connections writes need. Defaults to `sql`.
   */
  primaryReadSql?: Sql;
  /** Bound how long requests wait for a connection of each pool (503 database_busy past it). */
  gates?: { write?: PoolGate; read?: PoolGate; analytics?: PoolGate };
  /** statement_timeout of GET /v1/admin/stats (ADMIN_STATEMENT_TIMEOUT_MS); none when absent. */
  adminStatementTimeoutMs?: number;
  /** When set, GET /metrics needs `Authorization: Bearer <token>` (METRICS_TOKEN). */
  metricsToken?: string;
  writer: TelemetryWriter;
  /** Shared with the writer, so partitions made for one path are known to the other. */
  partitions?: Partitions;
  now?: () => Date;
  log?: Logger;
  metrics?: Metrics;
  /** Data-quality flag thresholds (ANALYTICS_MIN_COVERAGE, ANALYTICS_MAX_BATTERY_TEMP). */
  thresholds?: Partial<QualityThresholds>;
  /** When given, every /v1 request needs a key with the route's scope; else the service is open. */
  keys?: KeyStore;
  /** Per key (or per client address when open); none when absent. */
  rateLimits?: TokenBuckets;
  /** Refusals (401, 403) per client address, past which they are 429s; none when absent. */
  refusalLimits?: RefusalLimiter;
  /** The header a trusted reverse proxy puts the client's address in (CLIENT_ADDRESS_HEADER). */
  clientAddressHeader?: string;
  /** Which refusals get a log line (REFUSAL_LOG_INTERVAL_SECONDS); one per reason every 10 s when absent. */
  refusalLog?: LogSampler;
  /** Browser origins allowed to call the API; none by default. */
  corsOrigins?: string[];
  /** The oldest instant still kept (RETENTION_MONTHS); older readings are refused. */
  retentionHorizon?: () => Date | undefined;
  limits?: {
    maxBatchReadings?: number;
    maxBatchBytes?: number;
    maxNdjsonBytes?: number;
    maxFutureSkewSeconds?: number;
    /** JSON batches over 256 KiB handled at once (MAX_CONCURRENT_LARGE_BATCHES). */
    maxLargeBatches?: number;
    /** Whole months before the current one a reading may be (BACKFILL_MAX_MONTHS). */
    backfillMaxMonths?: number;
  };
  /** How NDJSON uploads are paced and staged (UPLOAD_*); DEFAULT_UPLOADS for what is not given. */
  uploads?: Partial<UploadOptions>;
  /**
   * Sets the server's idle timeout for one request's connection, in seconds (0: none;
   * omitted: back to the server's own), where the runtime has one (Bun's `server.timeout`).
   * Uploads replace it with their own pace watchdog while their body arrives.
   */
  requestTimeout?: (request: Request, seconds?: number) => void;
  /** The fleet view's cache, built by the entry point; a fresh one over the read pool when absent. */
  fleetCache?: FleetCache;
  /** Refuses writes while the rollups' backlog is over its bound; no bound when absent. */
  backlog?: BacklogGate;
  /** Told about every unexpected error; they are never shown to the client. */
  onUnexpectedError?: (error: unknown) => void;
  /** The reference page's script, served by the app; without it /docs loads it from Scalar's CDN. */
  referenceScript?: ReferenceScript;
  /** The dashboard's page and files (bundled by whoever starts the app); no page at / without. */
  dashboard?: DashboardAssets;
}

/** The telemetry routes, by the kind their refusals count under in fleet_readings_rejected_total. */
const TELEMETRY_KINDS = new Map([
  ["/v1/telemetry/meter", "meter"],
  ["/v1/telemetry/vehicle", "vehicle"],
  ["/v1/telemetry/batch", "batch"],
]);

export function createApp(deps: AppDeps) {
  const now = deps.now ?? (() => new Date());
  const log = deps.log ?? createLogger("silent");
  const partitions = deps.partitions ?? new Partitions(deps.sql);
  const schemas = readingSchemas(
    {
      now,
      maxFutureSkewMs: (deps.limits?.maxFutureSkewSeconds ?? DEFAULT_LIMITS.maxFutureSkewSeconds) * 1000,
      retentionHorizon: deps.retentionHorizon,
      backfillMaxMonths: deps.limits?.backfillMaxMonths ?? DEFAULT_LIMITS.backfillMaxMonths,
    },
    deps.limits?.maxBatchReadings ?? DEFAULT_LIMITS.maxBatchReadings,
  );

  const app = new Hono<{ Bindings: ClientEnv }>();
  const refusalLog = deps.refusalLog ?? new LogSampler(DEFAULT_REFUSALS.logIntervalSeconds * 1000);
  app.use(
    assignRequestId,
    requestContext(log, deps.metrics, refusalLog),
    answerHeadLikeGet,
    resolveClientAddress(deps.clientAddressHeader),
    compressAnswers(),
  );
  if (deps.corsOrigins?.length) {
    app.use(
      cors({
        origin: deps.corsOrigins,
        allowHeaders: ["Authorization", "Content-Type", "X-Request-Id"],
        exposeHeaders: ["X-Request-Id", "Retry-After"],
        maxAge: 600,
      }),
    );
  }

  app.onError((error, c) => {
    let known = toAppError(error);
    if (!known) {
      requestLogger(log, c).error({ err: error }, "unexpected error");
      deps.onUnexpectedError?.(error);
      known = new AppError(500, "internal_error", "internal error");
    }
    const kind = TELEMETRY_KINDS.get(matchedRoute(c));
    if (kind) deps.metrics?.rejected.inc({ kind, reason: known.code });
    return errorResponse(c, known);
  });
  app.notFound((c) => errorResponse(c, new AppError(404, "not_found", `no route for ${c.req.method} ${c.req.path}`)));

  app.get("/healthz", (c) => c.json({ status: "ok" }));
  app.get("/readyz", async (c) => {
    try {
      if (!(await isMigrated(deps.sql))) {
        return errorResponse(c, new AppError(503, "not_migrated", "database migrations are not applied"));
      }
    } catch {
      return errorResponse(c, databaseUnavailable());
    }
    return c.json({ status: "ready" });
  });
  if (deps.metrics) {
    const { registry, render } = deps.metrics;
    app.get("/metrics", requireMetricsToken(deps.metricsToken), async (c) =>
      c.body(await render(), 200, { "Content-Type": registry.contentType }),
    );
  }

  // Access policy, in one place: ingest keys write readings, read keys read, admin does all.
  // Open (no keys), none of it is installed: nothing to check on the hot path.
  const { keys, refusalLimits } = deps;
  if (keys) {
    const needs = (scope: Scope) => requireScope(scope, refusalLimits);
    app.use("/v1/*", authenticate(keys, refusalLimits));
    app.use("/v1/telemetry/*", needs("ingest"));
    app.get("/v1/mappings", needs("read"));
    app.on(["POST", "DELETE"], ["/v1/mappings", "/v1/mappings/*"], needs("admin"));
    // Naming a device is fleet administration, like linking its meters.
    app.on("PUT", ["/v1/vehicles/*", "/v1/meters/*"], needs("admin"));
    for (const path of ["/v1/vehicles/*", "/v1/meters/*", "/v1/analytics/*", "/v1/search"])
      app.use(path, needs("read"));
    for (const path of ["/v1/admin/*", "/v1/keys", "/v1/keys/*"]) app.use(path, needs("admin"));
  }
  if (deps.rateLimits) app.use("/v1/*", rateLimit(deps.rateLimits));
  // Each request of these groups holds a permit of its pool's gate while it runs; writes
  // take theirs where they take a connection (the writer's flushes, uploads).
  const { gates } = deps;
  app.use("/v1/mappings", holdPermit(gates?.write));
  app.use("/v1/mappings/*", holdPermit(gates?.write));
  for (const path of ["/v1/vehicles/*", "/v1/meters/*", "/v1/search", "/v1/admin/*"])
    app.use(path, holdPermit(gates?.read));
  app.use("/v1/analytics/*", holdPermit(gates?.analytics ?? gates?.read));

  const readSql = deps.readSql ?? deps.sql;
  const primaryReadSql = deps.primaryReadSql ?? deps.sql;
  // Mounted in one chain so the app's type carries every /v1 route (AppType, for hc).
  const routes = app
    .route(
      "/v1/telemetry",
      telemetryRoutes({
        sql: deps.sql,
        partitions,
        writer: deps.writer,
        schemas,
        maxBatchBytes: deps.limits?.maxBatchBytes ?? DEFAULT_LIMITS.maxBatchBytes,
        maxNdjsonBytes: deps.limits?.maxNdjsonBytes ?? DEFAULT_LIMITS.maxNdjsonBytes,
        metrics: deps.metrics,
        backlog: deps.backlog,
        maxLargeBatches: deps.limits?.maxLargeBatches ?? DEFAULT_LIMITS.maxLargeBatches,
        writeGate: gates?.write,
        uploads: { ...DEFAULT_UPLOADS, spoolDir: tmpdir(), ...deps.uploads },
        requestTimeout: deps.requestTimeout,
      }),
    )
    .route("/v1/mappings", mappingRoutes(deps.sql, now))
    .route("/v1", stateRoutes(deps.primaryReadSql ? createDb(primaryReadSql) : deps.db))
    .route("/v1", profileRoutes(deps.sql))
    .route("/v1/search", searchRoutes(primaryReadSql))
    .route(
      "/v1/analytics",
      analyticsRoutes({
        sql: readSql,
        fleetCache: deps.fleetCache ?? new FleetCache(readSql),
        now,
        thresholds: { ...DEFAULT_THRESHOLDS, ...deps.thresholds },
      }),
    )
    .route(
      "/v1/admin",
      adminRoutes({ sql: primaryReadSql, partitions, now, statementTimeoutMs: deps.adminStatementTimeoutMs }),
    );
  if (keys) app.route("/v1/keys", keyRoutes(keys));

  // The API described, open like /healthz: built once, on first request, when every route
  // above is in place.
  let document: Promise<OpenApiDocument> | undefined;
  app.get("/openapi.json", async (c) => {
    document ??= buildOpenApiDocument(app, {
      isKeyed: keys !== undefined,
      isRateLimited: deps.rateLimits !== undefined || (keys !== undefined && refusalLimits !== undefined),
      ndjsonLine: ndjsonLineSchema(schemas),
    }).catch((error) => {
      document = undefined;
      throw error;
    });
    return c.json(await document);
  });
  app.route("/", referencePageRoutes(deps.referenceScript));
  // The operator's page: open like /docs; its data comes from /v1 with the reader's key.
  if (deps.dashboard) app.route("/", dashboardRoutes(deps.dashboard));

  return routes;
}

/** The app's routes as types, for the typed client: `hc<AppType>(baseUrl)` from hono/client. */
export type AppType = ReturnType<typeof createApp>;
