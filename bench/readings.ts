// Unique readings for the built-in generators, built the same way as bench/wrk/single.lua:
// a device id shaped like a UUID from <run tag>-<client>-<kind>-<device>, and a timestamp
// one minute later per round over the devices, from a base in the past. Every (device,
// timestamp) is new, so the service takes the "stored" path and never the replay path.

/** Devices per kind and client: one round over them advances time by one minute. */
const DEVICES_PER_KIND = 1000;

export type Kind = "meter" | "vehicle";

// The wire shapes of readings, as the load tool defines them.
import type { MeterReading, VehicleReading } from "../tools/load/fleet.ts";

export type { MeterReading, VehicleReading };

// The high 16 bits of every tag are random per bench process, so two benches against the
// same long-running instance (--url) do not replay each other's readings.
const sessionBits = (Math.floor(Math.random() * 0xffff) + 1) << 16;
let tagCounter = 0;

/** A fresh tag for one load phase: its readings cannot collide with any other phase's. */
export function allocateTag(): number {
  tagCounter += 1;
  return (sessionBits | tagCounter) >>> 0;
}

/**
 * Whole minutes two days in the past: far enough back that a run of hours of readings
 * (one minute per round) never reaches the 5-minute future limit, near enough to land in
 * this month's partition or the previous one.
 */
export function computeBaseEpochSeconds(now = Date.now()): number {
  return Math.floor(now / 3_600_000) * 3600 - 48 * 3600;
}

export function formatDeviceId(tag: number, client: number, kind: Kind, device: number): string {
  const toHex = (value: number, width: number) => value.toString(16).padStart(width, "0");
  return `${toHex(tag, 8)}-${toHex(client, 4)}-4${toHex(kind === "meter" ? 1 : 2, 3)}-8000-${toHex(device, 12)}`;
}

/** The n-th reading of one kind for one client of a phase; n counts from 0. */
export function buildReading(
  tag: number,
  client: number,
  kind: Kind,
  n: number,
  baseSeconds: number,
  devicesPerKind = DEVICES_PER_KIND,
) {
  const device = n % devicesPerKind;
  const minute = Math.floor(n / devicesPerKind);
  const timestamp = new Date((baseSeconds + minute * 60) * 1000).toISOString();
  const id = formatDeviceId(tag, client, kind, device);
  if (kind === "meter") {
    const reading: MeterReading = {
      meterId: id,
      kwhConsumedAc: (n % 5000) / 1000,
      voltage: 220 + (n % 21),
      timestamp,
    };
    return reading;
  }
  const reading: VehicleReading = {
    vehicleId: id,
    soc: (n % 10000) / 100,
    kwhDeliveredDc: (n % 4000) / 1000,
    batteryTemp: 15 + (n % 200) / 10,
    timestamp,
  };
  return reading;
}

/** A batch body of `size` readings, half meters and half vehicles, all new. */
export function buildBatchBody(tag: number, client: number, batchIndex: number, size: number, baseSeconds: number) {
  const half = Math.floor(size / 2);
  const meters = [];
  const vehicles = [];
  for (let i = 0; i < half; i++) meters.push(buildReading(tag, client, "meter", batchIndex * half + i, baseSeconds));
  for (let i = 0; i < size - half; i++) {
    vehicles.push(buildReading(tag, client, "vehicle", batchIndex * (size - half) + i, baseSeconds));
  }
  return JSON.stringify({ meters, vehicles });
}
