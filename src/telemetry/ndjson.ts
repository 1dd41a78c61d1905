// Streamed uploads: POST /v1/telemetry/batch with Content-Type application/x-ndjson, one
// reading a line with "type":"meter"|"vehicle". A gateway can send a day of buffered
// readings without the service holding them: lines are validated as they arrive and
// copied (COPY) into a temporary staging table inside one transaction; only when the whole
// body was good are the staged rows dual-written, in the same transaction, and committed.
// One bad line (or a client that goes away mid-upload) rolls everything back, so the
// all-or-nothing rule of batches holds here too. Hot rows are locked only at that last
// step, never while the client is still uploading.
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { z } from "zod";
import type { Sql } from "../db/client.ts";
import { AppError } from "../http/errors.ts";
import { incompleteBody } from "../http/middleware.ts";
import { type FieldProblem, fieldName, validationError } from "../http/validate.ts";
import type { Partitions, TelemetryTable } from "../partitions/partitions.ts";
import type { ReadingSchemas } from "./schemas.ts";
import { insertMeterRows, insertVehicleRows } from "./store.ts";
import { type BatchOutcome, combineOutcomes } from "./writer.ts";

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

/** The body's chunks; a body that breaks off (the client went away) is the client's fault. */
async function* readFully(body: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const reader = body.getReader();
  for (;;) {
    const next = await reader.read().catch(() => {
      throw incompleteBody();
    });
    if (next.done) return;
    yield next.value;
  }
}

export async function writeNdjson(
  sql: Sql,
  partitions: Partitions,
  lineSchema: LineSchema,
  body: ReadableStream<Uint8Array> | null,
  maxBytes: number,
): Promise<BatchOutcome> {
  const problems: LineProblem[] = [];
  let problemCount = 0;
  const lines = { meter: 0, vehicle: 0 };
  const months = new Map<TelemetryTable, Date[]>([
    ["meter_telemetry", []],
    ["vehicle_telemetry", []],
  ]);
  const seenMonths = new Set<string>();

  // Validates each line and turns the good ones into COPY text rows, a chunk at a time.
  async function* stagedRows(): AsyncGenerator<string> {
    let chunk = "";
    let rows = 0;
    let lineNumber = 0;
    for await (const rawLine of linesOf(body ?? new Blob([]).stream(), maxBytes)) {
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
        yield chunk;
        chunk = "";
        rows = 0;
      }
    }
    if (chunk) yield chunk;
  }

  return sql.begin(async (tx) => {
    await tx`
      create temp table staged_readings (
        line int not null, kind "char" not null, device_id uuid not null,
        a numeric, b numeric, c numeric, recorded_at timestamptz not null
      ) on commit drop
    `;
    const copy = await tx`copy staged_readings from stdin`.writable();
    await pipeline(Readable.from(stagedRows()), copy);

    if (problemCount > 0) {
      const error = validationError(problems, "NDJSON body");
      error.message += problemCount > problems.length ? ` (${problemCount} bad lines in all)` : "";
      throw error;
    }
    if (lines.meter + lines.vehicle === 0)
      throw validationError([{ field: "(body)", message: "holds no readings" }], "NDJSON body");
    // Checked afresh rather than trusted from the cache (the upload cannot be retried from
    // here if a partition turned out to be gone), on this transaction's own connection.
    for (const [table, dates] of months) await partitions.ensureIn(tx, table, dates);

    // First occurrence wins when a (device, instant) repeats within the upload.
    const meters = await insertMeterRows(
      tx,
      tx`
          select distinct on (device_id, recorded_at)
                 device_id as meter_id, a as kwh_consumed_ac, b as voltage, recorded_at
          from staged_readings where kind = 'm'
          order by device_id, recorded_at, line
        `,
    );
    const vehicles = await insertVehicleRows(
      tx,
      tx`
          select distinct on (device_id, recorded_at)
                 device_id as vehicle_id, a as soc, b as kwh_delivered_dc, c as battery_temp, recorded_at
          from staged_readings where kind = 'v'
          order by device_id, recorded_at, line
        `,
    );
    return combineOutcomes(
      { stored: meters, duplicates: lines.meter - meters },
      { stored: vehicles, duplicates: lines.vehicle - vehicles },
    );
  });
}
