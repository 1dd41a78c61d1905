// Ingest: POST /v1/telemetry/meter, /vehicle and /batch. A 2xx is sent only after the
// writer reports the reading committed; 201 for a new reading, 200 for a replay.
import { Hono } from "hono";
import type { Sql } from "../db/client.ts";
import { limitBody, requireJson, requireMediaType } from "../http/middleware.ts";
import { validate } from "../http/validate.ts";
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
}

const SINGLE_READING_BYTES = 64 * 1024;

const answer = (outcome: WriteOutcome) =>
  outcome === "stored" ? ({ status: "stored" } as const) : ({ status: "duplicate" } as const);

const batchAnswer = (outcome: BatchOutcome) =>
  [{ status: "stored", ...outcome } as const, outcome.stored > 0 ? 201 : 200] as const;

export function telemetryRoutes(deps: TelemetryRouteDeps) {
  const { writer, schemas } = deps;
  const lineSchema = ndjsonLineSchema(schemas);
  return new Hono()
    .post("/meter", requireJson, limitBody(SINGLE_READING_BYTES), validate("json", schemas.meterReading), async (c) => {
      const outcome = await writer.writeMeter(c.req.valid("json"));
      return c.json(answer(outcome), outcome === "stored" ? 201 : 200);
    })
    .post(
      "/vehicle",
      requireJson,
      limitBody(SINGLE_READING_BYTES),
      validate("json", schemas.vehicleReading),
      async (c) => {
        const outcome = await writer.writeVehicle(c.req.valid("json"));
        return c.json(answer(outcome), outcome === "stored" ? 201 : 200);
      },
    )
    .post(
      "/batch",
      requireMediaType("application/json", NDJSON),
      async (c, next) => {
        if (!c.req.header("content-type")?.toLowerCase().startsWith(NDJSON)) return next();
        const outcome = await writeNdjson(deps.sql, deps.partitions, lineSchema, c.req.raw.body, deps.maxNdjsonBytes);
        return c.json(...batchAnswer(outcome));
      },
      limitBody(deps.maxBatchBytes),
      validate("json", schemas.batch),
      async (c) => c.json(...batchAnswer(await writer.writeBatch(c.req.valid("json")))),
    );
}
