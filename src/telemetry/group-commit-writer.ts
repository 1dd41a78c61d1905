// Group commit for single readings. Requests that arrive together share one transaction:
// each reading is queued, a flush takes everything queued (up to maxFlush readings) and
// writes it with the same two multi-row statements a batch uses, and every request is
// answered only once its flush has committed. A flush starts as soon as a flush slot is
// free, so at low load a reading is written at once, with no timer; under load readings
// pile up while the database works and the next flush takes them all.
//
// The queue is bounded: past maxQueued readings a write is refused with 503 + Retry-After
// rather than letting memory grow. A flush that fails fails exactly its own requests,
// with a 503; none of them was acknowledged. When the database is unreachable, readings
// still queued are answered 503 at once rather than each waiting out a connect timeout.
import type { Sql } from "../db/client.ts";
import type { PoolGate } from "../db/pool-gate.ts";
import { AppError, isDatabaseUnavailable } from "../http/errors.ts";
import type { Partitions } from "../partitions/partitions.ts";
import type { Batch, MeterReading, VehicleReading } from "./schemas.ts";
import { readingKey } from "./store.ts";
import {
  countOutcome,
  type StoredKeys,
  shuttingDown,
  type TelemetryWriter,
  type WriteOutcome,
  writeReadings,
} from "./writer.ts";

export interface GroupCommitOptions {
  /** Readings that may wait for a flush; beyond this, writes get a 503. */
  maxQueued: number;
  /** Readings written by one flush at most. */
  maxFlush: number;
  /** Flushes that may run at once (each holds one pool connection). */
  flushConcurrency: number;
  /** Told about every flush, for metrics and logs. */
  onFlush?: (event: FlushEvent) => void;
  /** Bounds how long a flush or a batch waits for a connection (503 database_busy past it). */
  gate?: PoolGate;
}

export interface FlushEvent {
  readings: number;
  durationMs: number;
  error?: unknown;
}

type Pending =
  | { kind: "meter"; reading: MeterReading; settle: Settle }
  | { kind: "vehicle"; reading: VehicleReading; settle: Settle };

interface Settle {
  resolve: (outcome: WriteOutcome) => void;
  reject: (error: unknown) => void;
}

export const overloaded = () =>
  new AppError(503, "overloaded", "the write queue is full; retry shortly", undefined, { "Retry-After": "1" });

const flushFailed = () =>
  new AppError(503, "write_failed", "the reading could not be stored; retry it", undefined, { "Retry-After": "1" });

export function createGroupCommitWriter(
  sql: Sql,
  partitions: Partitions,
  options: GroupCommitOptions,
): TelemetryWriter {
  let queue: Pending[] = [];
  let flushing = 0;
  let isClosed = false;
  let drained: (() => void) | undefined;
  const write = (batch: Batch) => {
    const run = () => writeReadings(sql, partitions, batch);
    return options.gate ? options.gate.run(run) : run();
  };

  function enqueue(item: (settle: Settle) => Pending): Promise<WriteOutcome> {
    if (isClosed) return Promise.reject(shuttingDown());
    if (queue.length >= options.maxQueued) return Promise.reject(overloaded());
    const outcome = new Promise<WriteOutcome>((resolve, reject) => {
      queue.push(item({ resolve, reject }));
    });
    startFlushes();
    return outcome;
  }

  function startFlushes() {
    while (queue.length > 0 && flushing < options.flushConcurrency) {
      const taken = queue.length <= options.maxFlush ? queue : queue.slice(0, options.maxFlush);
      queue = taken === queue ? [] : queue.slice(options.maxFlush);
      flushing++;
      void flush(taken).finally(() => {
        flushing--;
        startFlushes();
        if (flushing === 0 && queue.length === 0) drained?.();
      });
    }
  }

  async function flush(items: Pending[]) {
    const started = performance.now();
    const meters: MeterReading[] = [];
    const vehicles: VehicleReading[] = [];
    for (const item of items) {
      if (item.kind === "meter") meters.push(item.reading);
      else vehicles.push(item.reading);
    }
    let keys: StoredKeys;
    try {
      keys = await write({ meters, vehicles });
    } catch (error) {
      options.onFlush?.({ readings: items.length, durationMs: performance.now() - started, error });
      let failed = items;
      if (isDatabaseUnavailable(error)) {
        // The readings queued meanwhile would only wait out another connect timeout each:
        // answer them now, so a client's wait during an outage stays one timeout long.
        failed = items.concat(queue);
        queue = [];
      }
      // Our own answers (no connection came free in time, a partition busy) already say what to do.
      const answer = isDatabaseUnavailable(error) || error instanceof AppError ? error : flushFailed();
      for (const item of failed) item.settle.reject(answer);
      return;
    }
    options.onFlush?.({ readings: items.length, durationMs: performance.now() - started });
    // A key is "stored" for the first request that carried it, "duplicate" for the rest.
    const claimed = new Set<string>();
    for (const item of items) {
      const key =
        item.kind === "meter"
          ? readingKey(item.reading.meterId, item.reading.timestamp)
          : readingKey(item.reading.vehicleId, item.reading.timestamp);
      const stored = item.kind === "meter" ? keys.meters : keys.vehicles;
      const isFirst = stored.has(key) && !claimed.has(key);
      if (isFirst) claimed.add(key);
      item.settle.resolve(isFirst ? "stored" : "duplicate");
    }
  }

  // A reading's partition is made before it joins the queue (at once when its month is
  // known): a month that cannot be made now fails its own request, not a whole flush. Making
  // one takes a connection, so it waits for a permit like any other write.
  const ensureMonth = async (table: "meter_telemetry" | "vehicle_telemetry", date: Date) => {
    if (partitions.hasAll(table, [date])) return;
    const ensure = () => partitions.ensure(table, [date]);
    await (options.gate ? options.gate.run(ensure) : ensure());
  };
  return {
    async writeMeter(reading) {
      await ensureMonth("meter_telemetry", reading.timestamp);
      return enqueue((settle) => ({ kind: "meter", reading, settle }));
    },
    async writeVehicle(reading) {
      await ensureMonth("vehicle_telemetry", reading.timestamp);
      return enqueue((settle) => ({ kind: "vehicle", reading, settle }));
    },
    async writeBatch(batch) {
      // A batch is already a group: it gets its own transaction, beside the queue.
      if (isClosed) throw shuttingDown();
      return countOutcome(batch, await write(batch));
    },
    queued: () => queue.length,
    async close() {
      isClosed = true;
      if (flushing === 0 && queue.length === 0) return;
      await new Promise<void>((resolve) => {
        drained = resolve;
      });
    },
  };
}
