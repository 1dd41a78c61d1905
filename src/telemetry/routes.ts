// Ingest: POST /v1/telemetry/meter, /vehicle and /batch. A 2xx is sent only after the
// writer reports the reading committed; 201 for a new reading, 200 for a replay.
import { Hono } from "hono";
import type { Sql } from "../db/client.ts";
import { limitBody, requireJson, requireMediaType } from "../http/middleware.ts";
import { validate } from "../http/validate.ts";
import type { Metrics } from "../observability/metrics.ts";
import type { Partitions } from "../partitions/partitions.ts";
import { NDJSON, ndjsonLineSchema, writeNdjson } from "./ndjson.ts";
import type { ReadingSchemas } from "./schemas.ts";
import type { BatchOutcome, TelemetryWriter, WriteOutcome } from "./writer.ts";

export interface TelemetryRouteDeps {
  sql: Sql;
  partitions: Partitions;
  writer: TelemetryWriter;
  schemas: ReadingSchemas;
  maxBatchBytes: number;
  maxNdjsonBytes: number;
  metrics?: Metrics;
  /** Refuses writes (503 overloaded) while the rollups' backlog is over its bound. */
  backlog?: { check(): void };
}

const SINGLE_READING_BYTES = 64 * 1024;

const answer = (outcome: WriteOutcome) =>
  outcome === "stored" ? ({ status: "stored" } as const) : ({ status: "duplicate" } as const);

export function telemetryRoutes(deps: TelemetryRouteDeps) {
  const { writer, schemas, metrics } = deps;
  const lineSchema = ndjsonLineSchema(schemas);

  const single = (kind: "meter" | "vehicle", outcome: WriteOutcome) => {
    metrics?.readings.inc({ kind, outcome });
    return [answer(outcome), outcome === "stored" ? 201 : 200] as const;
  };
  const batch = (outcome: BatchOutcome) => {
    for (const [kind, counts] of [
      ["meter", outcome.meters],
      ["vehicle", outcome.vehicles],
    ] as const) {
      if (counts.stored) metrics?.readings.inc({ kind, outcome: "stored" }, counts.stored);
      if (counts.duplicates) metrics?.readings.inc({ kind, outcome: "duplicate" }, counts.duplicates);
    }
    const body = { status: "stored", stored: outcome.stored, duplicates: outcome.duplicates } as const;
    return [body, outcome.stored > 0 ? 201 : 200] as const;
  };

  return new Hono()
    .use(async (_, next) => {
      deps.backlog?.check();
      await next();
    })
    .post("/meter", requireJson, limitBody(SINGLE_READING_BYTES), validate("json", schemas.meterReading), async (c) => {
      return c.json(...single("meter", await writer.writeMeter(c.req.valid("json"))));
    })
    .post(
      "/vehicle",
      requireJson,
      limitBody(SINGLE_READING_BYTES),
      validate("json", schemas.vehicleReading),
      async (c) => {
        return c.json(...single("vehicle", await writer.writeVehicle(c.req.valid("json"))));
      },
    )
    .post(
      "/batch",
      requireMediaType("application/json", NDJSON),
      async (c, next) => {
        if (!c.req.header("content-type")?.toLowerCase().startsWith(NDJSON)) return next();
        const outcome = await writeNdjson(deps.sql, deps.partitions, lineSchema, c.req.raw.body, deps.maxNdjsonBytes);
        return c.json(...batch(outcome));
      },
      limitBody(deps.maxBatchBytes),
      validate("json", schemas.batch),
      async (c) => c.json(...batch(await writer.writeBatch(c.req.valid("json")))),
    );
}
