// Believable charging physics for one vehicle and the meter of its charger, one minute at
// a time. Pure functions: the next minute depends only on the profile, the state and the
// random source passed in, which is what makes a seeded run reproducible and testable.
//
// Energy flows meter -> charger -> battery: the meter's interval AC energy is P/60 kWh a
// minute while charging; the battery receives AC x efficiency (0.85-0.95), so DC <= AC;
// SoC rises by DC / capacity. Every reported number is rounded here to the decimals the
// API accepts, and the state advances from the rounded values, so what is reported is
// exactly what the simulated battery got.
import { roundTo } from "./decimal.ts";
import { pickBetween, type Random } from "./random.ts";

export type Activity = "charging" | "idle" | "driving";

/** What does not change about a vehicle and its charger during a run. */
export interface VehicleProfile {
  capacityKwh: number;
  /** AC power drawn at the meter while charging (7-22 kW: single- to three-phase AC). */
  chargePowerKw: number;
  /** Mean charger + battery efficiency; each minute varies a little around it. */
  efficiency: number;
  drivePowerKw: number;
  ambientC: number;
}

export interface VehicleState {
  activity: Activity;
  /** Unrounded, so small DC steps into a big battery still add up. */
  soc: number;
  batteryTemp: number;
  /** Where the current or next charging session stops. */
  targetSoc: number;
}

export interface MinuteReadings {
  kwhConsumedAc: number;
  voltage: number;
  kwhDeliveredDc: number;
  soc: number;
  batteryTemp: number;
}

// Efficiency bounds, kept inside [0.85, 0.95] with room for 3-decimal rounding of small
// energies (7 kW gives ~0.117 kWh a minute: rounding moves the ratio by up to 0.0045).
const MEAN_EFFICIENCY = { min: 0.86, max: 0.94 };
const MINUTE_EFFICIENCY = { min: 0.855, max: 0.945 };
const EFFICIENCY_NOISE = 0.005;
// Targets stop below 100 % so that even a full minute at 22 kW into a 40 kWh battery
// (+0.9 %) cannot overshoot 100 %.
const TARGET_SOC = { min: 80, max: 98 };
const NOMINAL_VOLTAGE = 230;

const clamp = (value: number, min: number, max: number) => Math.min(max, Math.max(min, value));

export function createProfile(random: Random): VehicleProfile {
  return {
    capacityKwh: roundTo(pickBetween(random, 40, 100), 1),
    chargePowerKw: roundTo(pickBetween(random, 7, 22), 1),
    efficiency: pickBetween(random, MEAN_EFFICIENCY.min, MEAN_EFFICIENCY.max),
    drivePowerKw: pickBetween(random, 8, 20),
    ambientC: pickBetween(random, 5, 30),
  };
}

export function createInitialState(profile: VehicleProfile, random: Random): VehicleState {
  const targetSoc = pickTargetSoc(random);
  const draw = random();
  // Most vehicles start plugged in, so even a short run has energy to measure.
  const activity: Activity = draw < 0.6 ? "charging" : draw < 0.85 ? "idle" : "driving";
  const soc = activity === "charging" ? pickBetween(random, 10, targetSoc - 10) : pickBetween(random, 30, 90);
  return { activity, soc, batteryTemp: profile.ambientC + pickBetween(random, 0, 3), targetSoc };
}

/** One minute: what the meter and the vehicle report for it, and the state after it. */
export function simulateMinute(
  profile: VehicleProfile,
  state: VehicleState,
  random: Random,
): { readings: MinuteReadings; next: VehicleState } {
  const isCharging = state.activity === "charging";
  const kwhConsumedAc = isCharging ? chargingAc(profile, random) : standbyAc(random);
  const kwhDeliveredDc = isCharging ? deliveredDc(kwhConsumedAc, profile, random) : 0;
  const drivenKwh = state.activity === "driving" ? profile.drivePowerKw / 60 : 0;
  const soc = clamp(state.soc + ((kwhDeliveredDc - drivenKwh) / profile.capacityKwh) * 100, 0, 100);
  const batteryTemp = relaxTemperature(profile, state, random);
  const readings: MinuteReadings = {
    kwhConsumedAc,
    voltage: meterVoltage(profile, isCharging, random),
    kwhDeliveredDc,
    soc: roundTo(soc, 2),
    batteryTemp: roundTo(batteryTemp, 2),
  };
  return { readings, next: chooseNextActivity({ ...state, soc, batteryTemp }, random) };
}

function pickTargetSoc(random: Random): number {
  return pickBetween(random, TARGET_SOC.min, TARGET_SOC.max);
}

/** Interval AC energy: P/60 kWh, with the +-1 % a real charger's power wanders by. */
function chargingAc(profile: VehicleProfile, random: Random): number {
  return roundTo((profile.chargePowerKw / 60) * pickBetween(random, 0.99, 1.01), 3);
}

/** A charger's idle electronics: a few tens of watts, so 0 or 1 Wh a minute. */
function standbyAc(random: Random): number {
  return random() < 0.5 ? 0.001 : 0;
}

function deliveredDc(ac: number, profile: VehicleProfile, random: Random): number {
  const efficiency = clamp(
    profile.efficiency + pickBetween(random, -EFFICIENCY_NOISE, EFFICIENCY_NOISE),
    MINUTE_EFFICIENCY.min,
    MINUTE_EFFICIENCY.max,
  );
  // min(): rounding must never make the battery receive more than the meter measured.
  return Math.min(ac, roundTo(ac * efficiency, 3));
}

/** Grid voltage with noise; a charging load pulls it down a little. */
function meterVoltage(profile: VehicleProfile, isCharging: boolean, random: Random): number {
  const sag = isCharging ? profile.chargePowerKw * 0.08 : 0;
  return roundTo(NOMINAL_VOLTAGE - sag + pickBetween(random, -3, 3), 2);
}

/** The battery drifts toward a temperature set by its load: warm when charging or driving. */
function relaxTemperature(profile: VehicleProfile, state: VehicleState, random: Random): number {
  const heating = state.activity === "charging" ? profile.chargePowerKw * 0.6 : state.activity === "driving" ? 4 : 0;
  const rate = state.activity === "idle" ? 0.03 : 0.04;
  const drift = (profile.ambientC + heating - state.batteryTemp) * rate;
  return state.batteryTemp + drift + pickBetween(random, -0.05, 0.05);
}

function chooseNextActivity(state: VehicleState, random: Random): VehicleState {
  const draw = random();
  switch (state.activity) {
    case "charging":
      if (state.soc < state.targetSoc) return state;
      return { ...state, activity: "idle", targetSoc: pickTargetSoc(random) };
    case "driving":
      // A nearly empty battery heads for a charger; otherwise trips end now and then.
      return state.soc < 15 || draw < 0.04 ? { ...state, activity: "idle" } : state;
    case "idle": {
      const plugInChance = state.soc < 30 ? 0.3 : state.soc < state.targetSoc - 5 ? 0.02 : 0;
      if (draw < plugInChance) return { ...state, activity: "charging" };
      if (state.soc > 20 && draw > 0.97) return { ...state, activity: "driving" };
      return state;
    }
  }
}
