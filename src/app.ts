// createApp(deps): the whole HTTP surface, wired from what it is given (database, writer,
// clock) and never listening itself, so tests drive it with app.request() and any runtime
// that speaks fetch can serve it. Every error leaves through the one onError below.
import { Hono } from "hono";
import { analyticsRoutes } from "./analytics/routes.ts";
import type { Db, Sql } from "./db/client.ts";
import { isMigrated } from "./db/migrate.ts";
import { mappingRoutes } from "./fleet/mappings.ts";
import { stateRoutes } from "./fleet/state.ts";
import { AppError, databaseUnavailable, errorResponse, toAppError } from "./http/errors.ts";
import { Partitions } from "./partitions/partitions.ts";
import { telemetryRoutes } from "./telemetry/routes.ts";
import { readingSchemas } from "./telemetry/schemas.ts";
import type { TelemetryWriter } from "./telemetry/writer.ts";

export interface AppDeps {
  sql: Sql;
  db: Db;
  writer: TelemetryWriter;
  /** Shared with the writer, so partitions made for one path are known to the other. */
  partitions?: Partitions;
  now?: () => Date;
  limits?: {
    maxBatchReadings?: number;
    maxBatchBytes?: number;
    maxNdjsonBytes?: number;
    maxFutureSkewSeconds?: number;
  };
  /** Where unexpected errors are reported; they are never shown to the client. */
  onUnexpectedError?: (error: unknown) => void;
}

export function createApp(deps: AppDeps) {
  const now = deps.now ?? (() => new Date());
  const maxBatchReadings = deps.limits?.maxBatchReadings ?? 10_000;
  const schemas = readingSchemas(
    { now, maxFutureSkewMs: (deps.limits?.maxFutureSkewSeconds ?? 300) * 1000 },
    maxBatchReadings,
  );
  const reportUnexpected = deps.onUnexpectedError ?? ((error) => console.error(error));

  const app = new Hono();

  app.onError((error, c) => {
    const known = toAppError(error);
    if (known) return errorResponse(c, known);
    reportUnexpected(error);
    return errorResponse(c, new AppError(500, "internal_error", "internal error"));
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

  app.route(
    "/v1/telemetry",
    telemetryRoutes({
      sql: deps.sql,
      partitions: deps.partitions ?? new Partitions(deps.sql),
      writer: deps.writer,
      schemas,
      maxBatchBytes: deps.limits?.maxBatchBytes ?? 16 * 1024 * 1024,
      maxNdjsonBytes: deps.limits?.maxNdjsonBytes ?? 1024 * 1024 * 1024,
    }),
  );
  app.route("/v1/mappings", mappingRoutes(deps.db));
  app.route("/v1", stateRoutes(deps.db));
  app.route("/v1/analytics", analyticsRoutes(deps.sql, now));

  return app;
}
