// Turns readings into write requests, one reading per request or many per batch, keeps at
// most --concurrency of them in flight, and records in the ledger what each 2xx
// acknowledged. A failed request is kept (first few) for the report, never retried here:
// retrying is the HTTP client's job and it already gave up.
import type { FleetReading } from "./fleet.ts";
import { describeFailure, type HttpClient, isAcknowledged } from "./http-client.ts";
import type { Ledger } from "./ledger.ts";
import { type Limiter, launchLimited } from "./limiter.ts";

export interface SenderOptions {
  client: HttpClient;
  limiter: Limiter;
  ledger: Ledger;
  /** Readings per POST /v1/telemetry/batch; undefined: one POST per reading. */
  batchSize?: number;
  onFailure: (what: string) => void;
}

export interface ReadingSender {
  /** Queues a reading pair; resolves once its requests are launched (not answered). */
  send(reading: FleetReading): Promise<void>;
  /** Sends a partly filled batch now (the end of a paced minute, or of the run). */
  flush(): Promise<void>;
  /** Flushes, then waits for every request to be answered. */
  drain(): Promise<void>;
}

export function createReadingSender(options: SenderOptions): ReadingSender {
  const { client, limiter, ledger, batchSize } = options;
  const reportBug = (error: unknown) => options.onFailure(`load tool defect: ${String(error)}`);
  let meters: FleetReading[] = [];
  let vehicles: FleetReading[] = [];

  async function postSingle(path: string, body: unknown, onAcknowledged: () => void) {
    const result = await client.request("POST", path, body);
    if (isAcknowledged(result)) onAcknowledged();
    else options.onFailure(`POST ${path}: ${describeFailure(result)}`);
  }

  async function postBatch(batchMeters: FleetReading[], batchVehicles: FleetReading[]) {
    const result = await client.request("POST", "/v1/telemetry/batch", {
      meters: batchMeters.map((reading) => reading.meter),
      vehicles: batchVehicles.map((reading) => reading.vehicle),
    });
    if (!isAcknowledged(result)) {
      const size = batchMeters.length + batchVehicles.length;
      return options.onFailure(`POST /v1/telemetry/batch (${size} readings): ${describeFailure(result)}`);
    }
    // A 2xx batch is committed whole (validation is all-or-nothing).
    for (const reading of batchMeters) ledger.recordMeter(reading);
    for (const reading of batchVehicles) ledger.recordVehicle(reading);
  }

  async function flush() {
    if (meters.length + vehicles.length === 0) return;
    const [batchMeters, batchVehicles] = [meters, vehicles];
    meters = [];
    vehicles = [];
    await launchLimited(limiter, () => postBatch(batchMeters, batchVehicles), reportBug);
  }

  async function send(reading: FleetReading) {
    ledger.noteSent(reading);
    if (batchSize === undefined) {
      await launchLimited(
        limiter,
        () => postSingle("/v1/telemetry/meter", reading.meter, () => ledger.recordMeter(reading)),
        reportBug,
      );
      await launchLimited(
        limiter,
        () => postSingle("/v1/telemetry/vehicle", reading.vehicle, () => ledger.recordVehicle(reading)),
        reportBug,
      );
      return;
    }
    meters.push(reading);
    if (meters.length + vehicles.length >= batchSize) await flush();
    vehicles.push(reading);
    if (meters.length + vehicles.length >= batchSize) await flush();
  }

  return {
    send,
    flush,
    async drain() {
      await flush();
      await limiter.whenIdle();
    },
  };
}
