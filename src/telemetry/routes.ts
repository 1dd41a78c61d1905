// Ingest: POST /v1/telemetry/meter, /vehicle and /batch. A 2xx is sent only after the
// writer reports the reading committed; 201 for a new reading, 200 for a replay.
import { Hono } from "hono";
import { limitBody, requireJson } from "../http/middleware.ts";
import { validate } from "../http/validate.ts";
import type { ReadingSchemas } from "./schemas.ts";
import type { TelemetryWriter, WriteOutcome } from "./writer.ts";

export interface TelemetryRouteDeps {
  writer: TelemetryWriter;
  schemas: ReadingSchemas;
  maxBatchBytes: number;
}

const SINGLE_READING_BYTES = 64 * 1024;

const answer = (outcome: WriteOutcome) =>
  outcome === "stored" ? ({ status: "stored" } as const) : ({ status: "duplicate" } as const);

export function telemetryRoutes({ writer, schemas, maxBatchBytes }: TelemetryRouteDeps) {
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
    .post("/batch", requireJson, limitBody(maxBatchBytes), validate("json", schemas.batch), async (c) => {
      const { stored, duplicates } = await writer.writeBatch(c.req.valid("json"));
      return c.json({ status: "stored", stored, duplicates }, stored > 0 ? 201 : 200);
    });
}
