// How readings reach the database. Routes depend on the TelemetryWriter interface only, so
// the way writes are grouped can change (one transaction per request here) without the
// HTTP layer knowing; every implementation answers only after its transaction commits.
import type { Sql } from "../db/client.ts";
import type { PoolGate } from "../db/pool-gate.ts";
import { AppError } from "../http/errors.ts";
import { isMissingPartition, type Partitions } from "../partitions/partitions.ts";
import type { Batch, MeterReading, VehicleReading } from "./schemas.ts";
import { insertMeterReadings, insertVehicleReadings, readingKey } from "./store.ts";

export type WriteOutcome = "stored" | "duplicate";

export interface KindOutcome {
  stored: number;
  duplicates: number;
}

export interface BatchOutcome extends KindOutcome {
  meters: KindOutcome;
  vehicles: KindOutcome;
}

export interface TelemetryWriter {
  writeMeter(reading: MeterReading): Promise<WriteOutcome>;
  writeVehicle(reading: VehicleReading): Promise<WriteOutcome>;
  writeBatch(batch: Batch): Promise<BatchOutcome>;
  /** Readings accepted and waiting to be written. */
  queued(): number;
  /** Finishes what was accepted; later writes are refused. */
  close(): Promise<void>;
}

export interface StoredKeys {
  meters: Set<string>;
  vehicles: Set<string>;
}

export const shuttingDown = () =>
  new AppError(503, "shutting_down", "the service is shutting down; retry shortly", undefined, { "Retry-After": "5" });

const RETRYABLE = new Set(["40001", "40P01"]);
export const MAX_ATTEMPTS = 4;

/** A deadlock, a serialization failure or a partition that vanished: worth writing again. */
export function isRetryableWrite(error: unknown): boolean {
  return isMissingPartition(error) || RETRYABLE.has((error as { code?: string }).code ?? "");
}

/**
 * Writes meters and vehicles in one transaction and answers which readings were new.
 * A reading repeated within the call is sent once, its first occurrence (first values
 * win, as they do against a stored reading). Creates missing partitions first, each month
 * in its own short transaction (Partitions.ensure); retries on a deadlock or a partition
 * that vanished.
 */
export async function writeReadings(sql: Sql, partitions: Partitions, batch: Batch): Promise<StoredKeys> {
  const meters = firstOfEach(batch.meters, (r) => readingKey(r.meterId, r.timestamp));
  const vehicles = firstOfEach(batch.vehicles, (r) => readingKey(r.vehicleId, r.timestamp));
  for (let attempt = 1; ; attempt++) {
    try {
      await partitions.ensure(
        "meter_telemetry",
        meters.map((r) => r.timestamp),
      );
      await partitions.ensure(
        "vehicle_telemetry",
        vehicles.map((r) => r.timestamp),
      );
      if (meters.length === 0 || vehicles.length === 0) {
        // One statement is already atomic: no need for BEGIN/COMMIT round trips.
        return { meters: await insertMeterReadings(sql, meters), vehicles: await insertVehicleReadings(sql, vehicles) };
      }
      return await sql.begin(async (tx) => ({
        meters: await insertMeterReadings(tx, meters),
        vehicles: await insertVehicleReadings(tx, vehicles),
      }));
    } catch (error) {
      if (!isRetryableWrite(error) || attempt >= MAX_ATTEMPTS) throw error;
      if (isMissingPartition(error)) partitions.forget();
    }
  }
}

function firstOfEach<T>(items: T[], keyOf: (item: T) => string): T[] {
  const seen = new Set<string>();
  return items.filter((item) => {
    const key = keyOf(item);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Counts what a write stored; a reading repeated within the batch counts as a duplicate. */
export function countOutcome(batch: Batch, keys: StoredKeys): BatchOutcome {
  return combineOutcomes(
    { stored: keys.meters.size, duplicates: batch.meters.length - keys.meters.size },
    { stored: keys.vehicles.size, duplicates: batch.vehicles.length - keys.vehicles.size },
  );
}

export function combineOutcomes(meters: KindOutcome, vehicles: KindOutcome): BatchOutcome {
  return {
    stored: meters.stored + vehicles.stored,
    duplicates: meters.duplicates + vehicles.duplicates,
    meters,
    vehicles,
  };
}

/** One transaction per request: for runtimes without a long-lived process. */
export function createDirectWriter(sql: Sql, partitions: Partitions, gate?: PoolGate): TelemetryWriter {
  let isClosed = false;
  const write = (batch: Batch) => {
    if (isClosed) throw shuttingDown();
    return gate ? gate.run(() => writeReadings(sql, partitions, batch)) : writeReadings(sql, partitions, batch);
  };
  return {
    async writeMeter(reading) {
      const keys = await write({ meters: [reading], vehicles: [] });
      return keys.meters.has(readingKey(reading.meterId, reading.timestamp)) ? "stored" : "duplicate";
    },
    async writeVehicle(reading) {
      const keys = await write({ meters: [], vehicles: [reading] });
      return keys.vehicles.has(readingKey(reading.vehicleId, reading.timestamp)) ? "stored" : "duplicate";
    },
    async writeBatch(batch) {
      return countOutcome(batch, await write(batch));
    },
    queued: () => 0,
    async close() {
      isClosed = true;
    },
  };
}
