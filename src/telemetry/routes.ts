// Ingest: POST /v1/telemetry/meter, /vehicle and /batch. A 2xx is sent only after the
// writer reports the reading committed; 201 for a new reading, 200 for a replay. Batch
// bodies, JSON or NDJSON, may be long in coming: they are held to the upload pace
// (upload-pace.ts) instead of the server's idle timeout.
import { Hono, type MiddlewareHandler } from "hono";
import type { Sql } from "../db/client.ts";
import type { PoolGate } from "../db/pool-gate.ts";
import { checkJsonBody, Slots } from "../http/json-body.ts";
import { limitBody, requireJson, requireMediaType } from "../http/middleware.ts";
import { validate } from "../http/validate.ts";
import type { Metrics } from "../observability/metrics.ts";
import type { Partitions } from "../partitions/partitions.ts";
import { NDJSON, ndjsonLineSchema, writeNdjson } from "./ndjson.ts";
import type { ReadingSchemas } from "./schemas.ts";
import { type UploadPace, watchPace } from "./upload-pace.ts";
import { UploadGate } from "./upload-spool.ts";
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
  /** An upload takes a permit of the write pool's gate for its one transaction, once its body is staged. */
  writeGate?: PoolGate;
  uploads: UploadOptions;
  /** The runtime's per-request idle timeout, in seconds (0: none; omitted: the server's own). */
  requestTimeout?: (request: Request, seconds?: number) => void;
}

export interface UploadOptions extends UploadPace {
  /** NDJSON uploads staged at once; more get 503 uploads_busy. */
  concurrency: number;
  /** Bytes of staged rows an upload keeps in memory before moving them to a file. */
  spoolMemoryBytes: number;
  /** Where those files go. */
  spoolDir: string;
}

const SINGLE_READING_BYTES = 64 * 1024;
/** A batch of 2,000 readings is about this large; smaller ones are not worth bounding. */
export const LARGE_BATCH_CHARS = 256 * 1024;
/** A batch nests 3 deep (body, list, reading); the slack leaves room for clients' extra fields. */
export const MAX_JSON_DEPTH = 8;

const answer = (outcome: WriteOutcome) =>
  outcome === "stored" ? ({ status: "stored" } as const) : ({ status: "duplicate" } as const);

export function telemetryRoutes(deps: TelemetryRouteDeps) {
  const { writer, schemas, metrics, uploads } = deps;
  const jsonBatchLimits = {
    maxDepth: MAX_JSON_DEPTH,
    largeBytes: LARGE_BATCH_CHARS,
    largeSlots: new Slots(deps.maxLargeBatches),
  };
  const ndjson = {
    sql: deps.sql,
    partitions: deps.partitions,
    lineSchema: ndjsonLineSchema(schemas),
    maxBytes: deps.maxNdjsonBytes,
    spool: { maxMemoryBytes: uploads.spoolMemoryBytes, dir: uploads.spoolDir },
    gate: new UploadGate(uploads.concurrency),
    writeGate: deps.writeGate,
  };

  // The body is watched from here on; the server's idle timeout no longer applies to it.
  const paced: MiddlewareHandler = async (c, next) => {
    const request = c.req.raw;
    if (!request.body) return next();
    deps.requestTimeout?.(request, 0);
    const watched = watchPace(request.body, uploads);
    c.req.raw = new Request(request, { body: watched.body, duplex: "half" } as RequestInit);
    try {
      await next();
    } finally {
      watched.stop();
      // The connection may be kept alive for further requests: they get the usual timeout.
      deps.requestTimeout?.(request);
    }
    // A JSON body cut short reaches the validator as malformed JSON: say why it was cut.
    const reason = watched.cutBy();
    if (reason && c.res.status !== reason.status) throw reason;
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
      paced,
      async (c, next) => {
        if (!c.req.header("content-type")?.toLowerCase().startsWith(NDJSON)) return next();
        return c.json(...batch(await writeNdjson(ndjson, c.req.raw.body)));
      },
      limitBody(deps.maxBatchBytes),
      checkJsonBody(jsonBatchLimits),
      validate("json", schemas.batch),
      async (c) => c.json(...batch(await writer.writeBatch(c.req.valid("json")))),
    );
}
