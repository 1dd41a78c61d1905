// What the server acknowledged, per vehicle, in exact thousandths of a kWh: the expected
// side of the final verification. Only 2xx answers are recorded (a duplicate counts too:
// the reading is stored, once), and only the meter of a vehicle that was really linked
// counts toward its AC, because the analytics sum AC over linked meters only.
import { toThousandths } from "./decimal.ts";
import { type FleetReading, MINUTE_MS } from "./fleet.ts";

export interface Expected {
  acThousandths: number;
  dcThousandths: number;
  dataPoints: number;
}

export interface Ledger {
  /** A reading pair went out (acknowledged or not): it widens the verification window. */
  noteSent(reading: FleetReading): void;
  recordMeter(reading: FleetReading): void;
  recordVehicle(reading: FleetReading): void;
  recordLink(index: number): void;
  isLinked(index: number): boolean;
  expectedFor(index: number): Expected;
  /** [first timestamp sent, last timestamp sent + 1 minute), or null if nothing was sent. */
  window(): { from: Date; to: Date } | null;
  size: number;
}

export function createLedger(size: number): Ledger {
  // Typed arrays: a 10,000-vehicle fleet costs a few hundred kB, not a million objects.
  // Integer sums stay exact in a double up to 2^53 thousandths (9 billion kWh).
  const acByVehicle = new Float64Array(size);
  const dcByVehicle = new Float64Array(size);
  const countByVehicle = new Uint32Array(size);
  const isLinked = new Uint8Array(size);
  let firstMs = Number.POSITIVE_INFINITY;
  let lastMs = Number.NEGATIVE_INFINITY;
  return {
    size,
    noteSent(reading) {
      const ms = Date.parse(reading.timestamp);
      firstMs = Math.min(firstMs, ms);
      lastMs = Math.max(lastMs, ms);
    },
    recordMeter(reading) {
      acByVehicle[reading.index] = (acByVehicle[reading.index] ?? 0) + toThousandths(reading.meter.kwhConsumedAc);
    },
    recordVehicle(reading) {
      dcByVehicle[reading.index] = (dcByVehicle[reading.index] ?? 0) + toThousandths(reading.vehicle.kwhDeliveredDc);
      countByVehicle[reading.index] = (countByVehicle[reading.index] ?? 0) + 1;
    },
    recordLink(index) {
      isLinked[index] = 1;
    },
    isLinked(index) {
      return isLinked[index] === 1;
    },
    expectedFor(index) {
      return {
        acThousandths: isLinked[index] ? (acByVehicle[index] ?? 0) : 0,
        dcThousandths: dcByVehicle[index] ?? 0,
        dataPoints: countByVehicle[index] ?? 0,
      };
    },
    window() {
      if (!Number.isFinite(firstMs)) return null;
      return { from: new Date(firstMs), to: new Date(lastMs + MINUTE_MS) };
    },
  };
}
