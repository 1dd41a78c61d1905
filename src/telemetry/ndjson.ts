// Streamed uploads: POST /v1/telemetry/batch with Content-Type application/x-ndjson, one
// reading a line with "type":"meter"|"vehicle". A gateway can send a day of buffered
// readings at the pace of its link without holding anything of the database's: lines are
// validated as they arrive and staged as COPY rows in an UploadSpool (memory, then a
// temporary file). Only when the whole body was read and good are the months' partitions
// made (each in its own short transaction) and the rows written in one transaction that
// lasts as long as the database work (staged-write.ts). One bad line, or a client that
// goes away or falls below the minimum pace, writes nothing: the all-or-nothing rule of
// batches holds here too.
import { z } from "zod";
import type { Sql } from "../db/client.ts";
import type { PoolGate } from "../db/pool-gate.ts";
import { AppError } from "../http/errors.ts";
import { incompleteBody } from "../http/middleware.ts";
import { type FieldProblem, fieldName, validationError } from "../http/validate.ts";
import type { Partitions, TelemetryTable } from "../partitions/partitions.ts";
import type { ReadingSchemas } from "./schemas.ts";
import { type StagedUpload, writeStaged } from "./staged-write.ts";
import { type SpoolOptions, type UploadGate, UploadSpool } from "./upload-spool.ts";
import type { BatchOutcome } from "./writer.ts";

export const NDJSON = "application/x-ndjson";
const MAX_LINE_BYTES = 64 * 1024;
const NEWLINE = 0x0a;
const MAX_LISTED_PROBLEMS = 1_000;
const ROWS_PER_CHUNK = 1_000;

export interface LineProblem extends FieldProblem {
  line: number;
}

export function ndjsonLineSchema(schemas: ReadingSchemas) {
  return z.discriminatedUnion(
    "type",
    [
      schemas.meterReading.extend({ type: z.literal("meter") }),
      schemas.vehicleReading.extend({ type: z.literal("vehicle") }),
    ],
    { error: 'must be "meter" or "vehicle"' },
  );
}

type LineSchema = ReturnType<typeof ndjsonLineSchema>;

const lineTooLong = () => new AppError(413, "payload_too_large", `a line is longer than ${MAX_LINE_BYTES} bytes`);

/**
 * Splits a byte stream into lines, refusing bodies and lines over their limits. Lines are
 * cut and measured as bytes, before decoding: a line of multibyte characters is held to
 * the same number of bytes as any other (a newline byte never occurs inside a UTF-8
 * character, so cutting there is safe).
 */
async function* linesOf(body: ReadableStream<Uint8Array>, maxBytes: number): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  let total = 0;
  const lineEndingWith = (tail: Uint8Array) => {
    const line = pending.length === 0 ? tail : Buffer.concat([...pending, tail]);
    pending = [];
    pendingBytes = 0;
    return decoder.decode(line);
  };
  for await (const chunk of readFully(body)) {
    total += chunk.byteLength;
    if (total > maxBytes) throw new AppError(413, "payload_too_large", `request body is larger than ${maxBytes} bytes`);
    let start = 0;
    for (let newline = chunk.indexOf(NEWLINE); newline !== -1; newline = chunk.indexOf(NEWLINE, start)) {
      if (pendingBytes + newline - start > MAX_LINE_BYTES) throw lineTooLong();
      yield lineEndingWith(chunk.subarray(start, newline));
      start = newline + 1;
    }
    if (start < chunk.byteLength) {
      // Copied: the stream may reuse the chunk's memory for the next read.
      pending.push(chunk.slice(start));
      pendingBytes += chunk.byteLength - start;
      if (pendingBytes > MAX_LINE_BYTES) throw lineTooLong();
    }
  }
  if (pendingBytes > 0) yield lineEndingWith(new Uint8Array(0));
}

/**
 * The body's chunks. A body that breaks off (the client went away) is the client's fault;
 * one cut for its pace keeps the reason it was cut for. A body left unread is cancelled.
 */
async function* readFully(body: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const reader = body.getReader();
  let isDone = false;
  try {
    for (;;) {
      const next = await reader.read().catch((error) => {
        isDone = true;
        throw error instanceof AppError ? error : incompleteBody();
      });
      if (next.done) {
        isDone = true;
        return;
      }
      yield next.value;
    }
  } finally {
    if (!isDone) reader.cancel().catch(() => {});
  }
}

export interface NdjsonUploadDeps {
  sql: Sql;
  partitions: Partitions;
  lineSchema: LineSchema;
  maxBytes: number;
  spool: SpoolOptions;
  /** Bounds how many uploads are staged at once. */
  gate: UploadGate;
  /** The write pool's gate: a permit is taken for the database work only, never the transfer. */
  writeGate?: PoolGate;
}

export async function writeNdjson(
  deps: NdjsonUploadDeps,
  body: ReadableStream<Uint8Array> | null,
): Promise<BatchOutcome> {
  const release = deps.gate.enter();
  const spool = new UploadSpool(deps.spool);
  try {
    const staged = await stageLines(body ?? new Blob([]).stream(), deps.lineSchema, deps.maxBytes, spool);
    const write = () => writeStaged(deps.sql, deps.partitions, staged);
    return await (deps.writeGate ? deps.writeGate.run(write) : write());
  } finally {
    release();
    await spool.discard();
  }
}

/** Reads and checks every line, staging the good ones as COPY rows, a chunk at a time. */
async function stageLines(
  body: ReadableStream<Uint8Array>,
  lineSchema: LineSchema,
  maxBytes: number,
  spool: UploadSpool,
): Promise<StagedUpload> {
  const problems: LineProblem[] = [];
  let problemCount = 0;
  const lines = { meter: 0, vehicle: 0 };
  const months = new Map<TelemetryTable, Date[]>([
    ["meter_telemetry", []],
    ["vehicle_telemetry", []],
  ]);
  const seenMonths = new Set<string>();
  let chunk = "";
  let rows = 0;
  let lineNumber = 0;
  for await (const rawLine of linesOf(body, maxBytes)) {
    lineNumber++;
    const line = rawLine.trim();
    if (!line) continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      problemCount++;
      if (problems.length < MAX_LISTED_PROBLEMS)
        problems.push({ line: lineNumber, field: "(line)", message: "is not valid JSON" });
      continue;
    }
    const parsed = lineSchema.safeParse(value);
    if (!parsed.success) {
      problemCount++;
      for (const issue of parsed.error.issues) {
        if (problems.length >= MAX_LISTED_PROBLEMS) break;
        problems.push({ line: lineNumber, field: fieldName(issue.path), message: issue.message });
      }
      continue;
    }
    if (problemCount > 0) continue; // nothing will be written: just keep validating
    const r = parsed.data;
    lines[r.type]++;
    const table: TelemetryTable = r.type === "meter" ? "meter_telemetry" : "vehicle_telemetry";
    const month = `${table}:${r.timestamp.getUTCFullYear()}-${r.timestamp.getUTCMonth()}`;
    if (!seenMonths.has(month)) {
      seenMonths.add(month);
      months.get(table)?.push(r.timestamp);
    }
    const at = r.timestamp.toISOString();
    chunk +=
      r.type === "meter"
        ? `${lineNumber}\tm\t${r.meterId}\t${r.kwhConsumedAc}\t${r.voltage}\t\\N\t${at}\n`
        : `${lineNumber}\tv\t${r.vehicleId}\t${r.soc}\t${r.kwhDeliveredDc}\t${r.batteryTemp}\t${at}\n`;
    if (++rows >= ROWS_PER_CHUNK) {
      await spool.write(chunk);
      chunk = "";
      rows = 0;
    }
  }
  if (problemCount > 0) {
    const error = validationError(problems, "NDJSON body");
    error.message += problemCount > problems.length ? ` (${problemCount} bad lines in all)` : "";
    throw error;
  }
  if (lines.meter + lines.vehicle === 0)
    throw validationError([{ field: "(body)", message: "holds no readings" }], "NDJSON body");
  if (chunk) await spool.write(chunk);
  return { spool, lines, months };
}
