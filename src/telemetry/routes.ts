// Ingest: POST /v1/telemetry/meter, /vehicle and /batch. A 2xx is sent only after the
// writer reports the reading committed; 201 for a new reading, 200 for a replay.
import { Hono } from "hono";
import type { Sql } from "../db/client.ts";
import type { PoolGate } from "../db/pool-gate.ts";
import { checkJsonBody, Slots } from "../http/json-body.ts";
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
  /** Large JSON batches (over LARGE_BATCH_CHARS) handled at once; past it, 503 busy. */
  maxLargeBatches: number;
  /** An upload holds a connection of the write pool throughout: it takes a permit of its gate. */
  writeGate?: PoolGate;
}

const SINGLE_READING_BYTES = 64 * 1024;
/** A batch of 2,000 readings is about this large; smaller ones are not worth bounding. */
export const LARGE_BATCH_CHARS = 256 * 1024;
/** A batch nests 3 deep (body, list, reading); the slack leaves room for clients' extra fields. */
export const MAX_JSON_DEPTH = 8;

const answer = (outcome: WriteOutcome) =>
  outcome === "stored" ? ({ status: "stored" } as const) : ({ status: "duplicate" } as const);

export function telemetryRoutes(deps: TelemetryRouteDeps) {
  const { writer, schemas, metrics } = deps;
  const lineSchema = ndjsonLineSchema(schemas);
  const jsonBatchLimits = {
    maxDepth: MAX_JSON_DEPTH,
    largeBytes: LARGE_BATCH_CHARS,
    largeSlots: new Slots(deps.maxLargeBatches),
  };
  const upload = (body: ReadableStream<Uint8Array> | null) => {
    const write = () => writeNdjson(deps.sql, deps.partitions, lineSchema, body, deps.maxNdjsonBytes);
    return deps.writeGate ? deps.writeGate.run(write) : write();
  };

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
        return c.json(...batch(await upload(c.req.raw.body)));
      },
      limitBody(deps.maxBatchBytes),
      checkJsonBody(jsonBatchLimits),
      validate("json", schemas.batch),
      async (c) => c.json(...batch(await writer.writeBatch(c.req.valid("json")))),
    );
}
