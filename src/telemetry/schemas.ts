// What a reading must look like to be accepted. Every limit here mirrors a column of the
// store (numeric precision and scale) or a rule of docs/design.md, so that the database never
// has to reject what validation let through.
import { z } from "zod";
import { deviceIdSchema, typeError } from "../http/schemas.ts";
import { addMonths } from "../partitions/partitions.ts";

/** Sums of a few thousand float terms stay within this; a real extra digit does not. */
const RELATIVE_NOISE = 1e-12;

/** A JSON number that fits numeric(precision, scale) within [min, max] without rounding. */
function decimalSchema(min: number, max: number, scale: number) {
  const factor = 10 ** scale;
  return z
    .number({ error: typeError("must be a number") })
    .min(min, `must be at least ${min}`)
    .max(max, `must be at most ${max}`)
    .refine((value) => {
      // The value must be the column's decimal nearest to it, give or take binary noise
      // (0.1 + 0.2). The tolerance is relative, so a tiny value (5e-324) that would be
      // stored as 0 is refused rather than silently rounded; 0 itself is exact.
      const nearest = Math.round(value * factor) / factor;
      return Math.abs(nearest - value) <= Math.abs(value) * RELATIVE_NOISE;
    }, `must have at most ${scale} decimal places`);
}

const kwh = decimalSchema(0, 9_999_999.999, 3);

/** Timestamps before this are a device clock that was never set, not data. */
const EARLIEST_TIMESTAMP = new Date("2000-01-01T00:00:00Z");

export interface Clock {
  now: () => Date;
  maxFutureSkewMs: number;
  /** Readings before this instant would land in partitions already dropped: refused. */
  retentionHorizon?: () => Date | undefined;
  /**
   * How many whole months before the current one a reading may be (BACKFILL_MAX_MONTHS):
   * each month a reading reaches may create partitions, so how far back is bounded.
   */
  backfillMaxMonths?: number;
}

// Stored to the millisecond: a device's replay of the same instant must map to the same
// key, whatever precision its clock prints.
function timestampSchema(clock: Clock) {
  return z.iso
    .datetime({
      offset: true,
      error: "must be an ISO-8601 date-time with a zone, e.g. 2026-02-09T14:00:00Z",
    })
    .transform((text) => new Date(text))
    .refine((date) => date >= EARLIEST_TIMESTAMP, `must not be before ${EARLIEST_TIMESTAMP.toISOString()}`)
    .refine(
      (date) => date.getTime() <= clock.now().getTime() + clock.maxFutureSkewMs,
      `must not be more than ${clock.maxFutureSkewMs / 1000} s ahead of the server clock`,
    )
    .superRefine((date, context) => {
      const retention = clock.retentionHorizon?.();
      const backfill =
        clock.backfillMaxMonths === undefined ? undefined : addMonths(clock.now(), -clock.backfillMaxMonths);
      // Of the two horizons, the later one is the one that refuses; its reason is given.
      if (retention && date < retention && (!backfill || retention >= backfill)) {
        context.addIssue({
          code: "custom",
          message: `must not be before the retention horizon, ${retention.toISOString()}`,
        });
      } else if (backfill && date < backfill) {
        context.addIssue({
          code: "custom",
          message: `must not be before ${backfill.toISOString()}: readings more than ${clock.backfillMaxMonths} months back are refused`,
        });
      }
    });
}

export function readingSchemas(clock: Clock, maxBatchReadings: number) {
  const timestamp = timestampSchema(clock);
  const meterReading = z.object({
    meterId: deviceIdSchema.describe("The meter's id, a UUID (any case; stored lower case)"),
    kwhConsumedAc: kwh.describe(
      "kWh of AC energy the charger drew during this reading's interval (not a running total), up to 3 decimal places",
    ),
    voltage: decimalSchema(0, 9_999.99, 2).describe("Supply voltage, V, up to 2 decimal places"),
    timestamp: timestamp.describe(
      "When the reading was taken: ISO-8601 with a zone, e.g. 2026-02-09T14:00:00Z; stored to the millisecond, at most MAX_FUTURE_SKEW_SECONDS (default 300 seconds) ahead of the server clock",
    ),
  });
  const vehicleReading = z.object({
    vehicleId: deviceIdSchema.describe("The vehicle's id, a UUID (any case; stored lower case)"),
    soc: decimalSchema(0, 100, 2).describe("State of charge, %, 0 to 100, up to 2 decimal places"),
    kwhDeliveredDc: kwh.describe(
      "kWh of DC energy delivered to the battery during this reading's interval (not a running total), up to 3 decimal places",
    ),
    batteryTemp: decimalSchema(-999.99, 999.99, 2).describe("Battery temperature, °C, up to 2 decimal places"),
    timestamp: timestamp.describe(
      "When the reading was taken: ISO-8601 with a zone, e.g. 2026-02-09T14:00:00Z; stored to the millisecond, at most MAX_FUTURE_SKEW_SECONDS (default 300 seconds) ahead of the server clock",
    ),
  });
  const batch = z
    .object({
      meters: z
        .array(meterReading)
        .max(maxBatchReadings)
        .default([])
        .describe("Meter readings, in any order; at most MAX_BATCH_READINGS (count) with the vehicles"),
      vehicles: z
        .array(vehicleReading)
        .max(maxBatchReadings)
        .default([])
        .describe("Vehicle readings, in any order; at most MAX_BATCH_READINGS (count) with the meters"),
    })
    .refine((body) => body.meters.length + body.vehicles.length > 0, {
      message: "a batch needs at least one reading in meters or vehicles",
      path: ["meters"],
    })
    .refine((body) => body.meters.length + body.vehicles.length <= maxBatchReadings, {
      message: `a batch holds at most ${maxBatchReadings} readings`,
      path: ["meters"],
    });
  return { meterReading, vehicleReading, batch };
}

export type ReadingSchemas = ReturnType<typeof readingSchemas>;
export type MeterReading = z.infer<ReadingSchemas["meterReading"]>;
export type VehicleReading = z.infer<ReadingSchemas["vehicleReading"]>;
export type Batch = z.infer<ReadingSchemas["batch"]>;
