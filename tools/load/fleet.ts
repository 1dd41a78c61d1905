// The simulated fleet: N vehicles, each paired with the meter of its own charger, and the
// readings they produce minute by minute. generateFleetReadings is the one fast path that
// every mode (and any benchmark) draws readings from: a generator, so a long run holds one
// small state per vehicle and never an array of all its readings.
import {
  createInitialState,
  createProfile,
  simulateMinute,
  type VehicleProfile,
  type VehicleState,
} from "./physics.ts";
import { createRandom, deriveUuid, type Random } from "./random.ts";

// src/time.ts has hours and days; the minute, the fleet's reporting step, is defined here
// (bench/fleet-store.ts takes it from here too).
export const MINUTE_MS = 60_000;

export interface FleetDevices {
  vehicleId: string;
  meterId: string;
}

export interface MeterReading {
  meterId: string;
  kwhConsumedAc: number;
  voltage: number;
  timestamp: string;
}

export interface VehicleReading {
  vehicleId: string;
  soc: number;
  kwhDeliveredDc: number;
  batteryTemp: number;
  timestamp: string;
}

/** One device pair's readings for one simulated minute (same instant for both). */
export interface FleetReading {
  /** Which vehicle (and meter) of the fleet, 0-based: the key for tallies. */
  index: number;
  minute: number;
  timestamp: string;
  meter: MeterReading;
  vehicle: VehicleReading;
}

export interface FleetOptions {
  size: number;
  seed: string;
  /** Instant of minute 0. */
  start: Date;
  minutes: number;
}

/** Device ids of vehicle i and its meter: the same for a given seed whatever the fleet size. */
export function describeDevices(seed: string, index: number): FleetDevices {
  return {
    vehicleId: deriveUuid(`${seed}:vehicle:${index}`),
    meterId: deriveUuid(`${seed}:meter:${index}`),
  };
}

export function listDevices(seed: string, size: number): FleetDevices[] {
  return Array.from({ length: size }, (_, index) => describeDevices(seed, index));
}

interface SimulatedVehicle extends FleetDevices {
  profile: VehicleProfile;
  state: VehicleState;
  random: Random;
}

function createSimulatedVehicle(seed: string, index: number): SimulatedVehicle {
  // One random stream per vehicle: its readings do not depend on how many others there are.
  const random = createRandom(`${seed}:physics:${index}`);
  const profile = createProfile(random);
  return { ...describeDevices(seed, index), profile, state: createInitialState(profile, random), random };
}

/**
 * Readings for `size` vehicles and their meters over `minutes` minutes from `start`,
 * minute by minute (every device's minute 0, then minute 1, ...), as devices report them.
 * Deterministic: the same options yield the same readings.
 */
export function* generateFleetReadings(options: FleetOptions): Generator<FleetReading> {
  const fleet = Array.from({ length: options.size }, (_, index) => createSimulatedVehicle(options.seed, index));
  const startMs = options.start.getTime();
  for (let minute = 0; minute < options.minutes; minute++) {
    const timestamp = new Date(startMs + minute * MINUTE_MS).toISOString();
    for (const [index, vehicle] of fleet.entries()) {
      const { readings, next } = simulateMinute(vehicle.profile, vehicle.state, vehicle.random);
      vehicle.state = next;
      yield {
        index,
        minute,
        timestamp,
        meter: {
          meterId: vehicle.meterId,
          kwhConsumedAc: readings.kwhConsumedAc,
          voltage: readings.voltage,
          timestamp,
        },
        vehicle: {
          vehicleId: vehicle.vehicleId,
          soc: readings.soc,
          kwhDeliveredDc: readings.kwhDeliveredDc,
          batteryTemp: readings.batteryTemp,
          timestamp,
        },
      };
    }
  }
}
