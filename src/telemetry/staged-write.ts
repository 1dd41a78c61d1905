// The database half of an NDJSON upload, run once the whole body has been read and checked:
// partitions for its months first (each month its own short transaction), then one
// transaction that copies the staged rows into a temporary table and dual-writes them.
// It lasts as long as the database work, never as long as the client's transfer. The
// rows stay in the spool, so a deadlock or a partition dropped meanwhile is retried.
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { Sql } from "../db/client.ts";
import type { Partitions, TelemetryTable } from "../partitions/partitions.ts";
import { insertMeterRows, insertVehicleRows } from "./store.ts";
import type { UploadSpool } from "./upload-spool.ts";
import { type BatchOutcome, combineOutcomes, isRetryableWrite, MAX_ATTEMPTS } from "./writer.ts";

export interface StagedUpload {
  /** COPY text rows: line, kind ('m' or 'v'), device id, three values, recorded_at. */
  spool: UploadSpool;
  /** Good lines of each kind, duplicates included. */
  lines: { meter: number; vehicle: number };
  /** One date in each month the readings fall in, per table. */
  months: Map<TelemetryTable, Date[]>;
}

export async function writeStaged(sql: Sql, partitions: Partitions, staged: StagedUpload): Promise<BatchOutcome> {
  for (let attempt = 1; ; attempt++) {
    try {
      for (const [table, dates] of staged.months) await partitions.ensure(table, dates);
      return await copyAndStore(sql, staged);
    } catch (error) {
      if (!isRetryableWrite(error) || attempt >= MAX_ATTEMPTS) throw error;
      partitions.forget();
    }
  }
}

function copyAndStore(sql: Sql, { spool, lines }: StagedUpload): Promise<BatchOutcome> {
  return sql.begin(async (tx) => {
    await tx`
      create temp table staged_readings (
        line int not null, kind "char" not null, device_id uuid not null,
        a numeric, b numeric, c numeric, recorded_at timestamptz not null
      ) on commit drop
    `;
    const copy = await tx`copy staged_readings from stdin`.writable();
    await pipeline(Readable.from(spool.read()), copy);

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
