// The crash test's ledger: every reading sent, every attempt at sending it and what came back, and
// the load that fills it (concurrent loops of single readings, JSON batches and NDJSON uploads).
import { randomUUID } from "node:crypto";

export type Kind = "meter" | "vehicle";

export interface Reading {
  kind: Kind;
  device: string;
  at: number;
  /** The stored columns, in table order after the device id. */
  values: number[];
}

export interface Attempt {
  startedAt: number;
  endedAt: number;
  status: number | "timeout" | "error";
  retryAfter: string | null;
  // biome-ignore lint/suspicious/noExplicitAny: a response body has no static type
  body: any;
  text: string;
  isRetry: boolean;
}

export type Format = "single" | "json" | "ndjson";

export interface Send {
  readings: Reading[];
  format: Format;
  attempts: Attempt[];
  ack?: Attempt;
}

export const keyOf = (device: string, at: number) => `${device}|${at}`;
export const readingKey = (r: Reading) => keyOf(r.device, r.at);
export const is2xx = (status: Attempt["status"]) => typeof status === "number" && status >= 200 && status < 300;

function readingJson(r: Reading, withType: boolean): Record<string, unknown> {
  const timestamp = new Date(r.at).toISOString();
  const type = withType ? { type: r.kind } : {};
  return r.kind === "meter"
    ? { ...type, meterId: r.device, kwhConsumedAc: r.values[0], voltage: r.values[1], timestamp }
    : {
        ...type,
        vehicleId: r.device,
        soc: r.values[0],
        kwhDeliveredDc: r.values[1],
        batteryTemp: r.values[2],
        timestamp,
      };
}

/** The request that sends these readings in this format. */
export function requestFor(send: Send): { path: string; contentType: string; body: string } {
  const [first] = send.readings;
  if (send.format === "single" && first)
    return {
      path: `/v1/telemetry/${first.kind}`,
      contentType: "application/json",
      body: JSON.stringify(readingJson(first, false)),
    };
  if (send.format === "ndjson")
    return {
      path: "/v1/telemetry/batch",
      contentType: "application/x-ndjson",
      body: send.readings.map((r) => JSON.stringify(readingJson(r, true))).join("\n"),
    };
  return {
    path: "/v1/telemetry/batch",
    contentType: "application/json",
    body: JSON.stringify({
      meters: send.readings.filter((r) => r.kind === "meter").map((r) => readingJson(r, false)),
      vehicles: send.readings.filter((r) => r.kind === "vehicle").map((r) => readingJson(r, false)),
    }),
  };
}

/** What was sent and what came back, in the order sent. */
export class Ledger {
  readonly sends: Send[] = [];

  /** Sends acknowledged (a 2xx) so far. */
  acked() {
    return this.sends.filter((send) => send.ack).length;
  }

  /** Sends with no 2xx yet. */
  unacked() {
    return this.sends.filter((send) => !send.ack);
  }

  sentKeys() {
    return new Set(this.sends.flatMap((send) => send.readings.map(readingKey)));
  }

  ackedKeys() {
    return new Set(this.sends.filter((s) => s.ack).flatMap((s) => s.readings.map(readingKey)));
  }

  /** Every reading sent, by its key. */
  sentReadings() {
    return new Map(this.sends.flatMap((s) => s.readings.map((r) => [readingKey(r), r] as const)));
  }

  /** Readings answered "stored", over every 2xx attempt (first tries and retries). */
  storedAnswers() {
    let stored = 0;
    for (const send of this.sends) {
      for (const a of send.attempts) {
        if (!is2xx(a.status)) continue;
        stored += send.format === "single" ? (a.body?.status === "stored" ? 1 : 0) : (a.body?.stored ?? 0);
      }
    }
    return stored;
  }
}

export interface LoadOptions {
  loops: number;
  /** Readings start just after this instant, one a second per device. */
  base: number;
  post(send: Send, isRetry: boolean): Promise<Attempt>;
  /** Stops the loops too, whoever stops the load. */
  isTornDown(): boolean;
}

export interface Load {
  /** Stops every loop and waits for their last requests. */
  stop(): Promise<void>;
}

/** Loops, each with devices of its own, sending one reading a second each (every tenth send a batch). */
export function startLoad(ledger: Ledger, { loops, base, post, isTornDown }: LoadOptions): Load {
  let isStopped = false;
  const loop = async (index: number) => {
    const meter = randomUUID();
    const vehicle = randomUUID();
    let meterAt = base + index; // distinct instants across loops, unique per device
    let vehicleAt = base + index;
    const nextMeter = (): Reading => {
      meterAt += 1_000;
      return { kind: "meter", device: meter, at: meterAt, values: [(meterAt % 100_000) / 1000, 230.5] };
    };
    const nextVehicle = (): Reading => {
      vehicleAt += 1_000;
      return {
        kind: "vehicle",
        device: vehicle,
        at: vehicleAt,
        values: [(vehicleAt % 10_000) / 100, (vehicleAt % 100_000) / 1000, 20.25],
      };
    };
    for (let step = 0; !isStopped && !isTornDown(); step++) {
      let send: Send;
      if (step % 10 === 9) {
        send = {
          readings: [nextMeter(), nextVehicle(), nextMeter(), nextVehicle()],
          format: step % 20 === 19 ? "ndjson" : "json",
          attempts: [],
        };
      } else {
        send = { readings: [step % 2 === 0 ? nextMeter() : nextVehicle()], format: "single", attempts: [] };
      }
      ledger.sends.push(send);
      const result = await post(send, false);
      send.attempts.push(result);
      if (is2xx(result.status)) send.ack = result;
      else await Bun.sleep(25); // a client backing off a little (not Retry-After: keep the test short)
    }
  };
  const running = Array.from({ length: loops }, (_, index) => loop(index));
  return {
    async stop() {
      isStopped = true;
      await Promise.all(running);
    },
  };
}
