// Data-quality flags: what makes a figure untrustworthy is reported next to it, never
// hidden by clamping (an efficiency above 1 stays above 1, and says why it cannot be).
import type { Window } from "./energy.ts";

export interface QualityThresholds {
  /** Below this share of the expected one-a-minute readings, coverage is flagged. */
  minCoverage: number;
  /** Above this battery temperature (°C), the vehicle is flagged. */
  maxBatteryTemp: number;
}

export interface QualityFlag {
  code: "efficiency_above_one" | "low_coverage" | "battery_overheat" | "dc_without_meter" | "meter_shared";
  message: string;
}

export interface QualityInput {
  ac: number;
  dc: number;
  readings: number;
  expectedPoints: number;
  tempMax: number | null;
  meters: number;
  sharedMeters: number;
}

export function qualityFlags(input: QualityInput, thresholds: QualityThresholds): QualityFlag[] {
  const flags: QualityFlag[] = [];
  if (input.ac > 0 && input.dc > input.ac) {
    flags.push({
      code: "efficiency_above_one",
      message: "more DC reached the battery than AC was drawn: a wrong mapping or a faulty meter",
    });
  }
  if (input.dc > 0 && input.meters === 0) {
    flags.push({ code: "dc_without_meter", message: "DC was delivered but no meter was linked to the vehicle" });
  }
  if (input.sharedMeters > 0) {
    flags.push({
      code: "meter_shared",
      message: `${input.sharedMeters} linked meter(s) were linked to another vehicle at the same time`,
    });
  }
  const coverage = coverageOf(input.readings, input.expectedPoints);
  if (coverage !== null && coverage < thresholds.minCoverage) {
    flags.push({
      code: "low_coverage",
      message: `${input.readings} of ${input.expectedPoints} expected readings (coverage below ${thresholds.minCoverage})`,
    });
  }
  if (input.tempMax !== null && input.tempMax > thresholds.maxBatteryTemp) {
    flags.push({
      code: "battery_overheat",
      message: `battery temperature reached ${input.tempMax} °C (above ${thresholds.maxBatteryTemp} °C)`,
    });
  }
  return flags;
}

const MINUTE_MS = 60_000;

/**
 * Readings expected of a vehicle over a window: one a minute, from the window's start or
 * the minute of the vehicle's first reading (`firstSeenMs`, when later), to the window's
 * end or `now` (when sooner), so neither minutes before the vehicle existed nor minutes
 * yet to come are expected. Counted in whole minutes.
 */
export function expectedPointsOf(window: Window, now: Date, firstSeenMs: number | null = null): number {
  const firstMinute = firstSeenMs === null ? Number.NEGATIVE_INFINITY : Math.floor(firstSeenMs / MINUTE_MS) * MINUTE_MS;
  const start = Math.max(window.from.getTime(), firstMinute);
  const end = Math.min(window.to.getTime(), now.getTime());
  return Math.max(0, Math.floor((end - start) / MINUTE_MS));
}

export const coverageOf = (readings: number, expected: number) =>
  expected === 0 ? null : Math.round((readings / expected) * 10_000) / 10_000;
