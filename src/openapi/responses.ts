// What each route answers, as zod schemas: the response half of /openapi.json (the request
// half comes from the schemas that validate requests). Objects are strict, so a field
// added to an answer without being written down here fails the response checks of the
// route tests instead of going undocumented.
import { z } from "zod";
import { SCOPES } from "../auth/keys.ts";

const instant = z.iso.datetime({ offset: true }).describe("An ISO-8601 instant, e.g. 2026-03-15T11:00:00.000Z");
const uuid = z
  .string()
  .regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/)
  .describe("A device id (UUID), lower case");
const kwh = z.number().describe("kWh, to 3 decimal places");
const ratio = z.number().nullable().describe("DC delivered over AC drawn, to 4 decimal places; null without AC");
const count = z.int().min(0);
const name = z
  .string()
  .nullable()
  .describe("What operators call the device (PUT .../profile); null when it has no name");

export const errorBody = z
  .strictObject({
    error: z.strictObject({
      code: z.string().describe("Stable, machine-readable: validation_failed, unauthorized, not_found, ..."),
      message: z.string().describe("For people; may change"),
      details: z
        .unknown()
        .optional()
        .describe("For validation_failed: [{field, message, line?}], one per bad field (batch items by index)"),
    }),
  })
  .meta({ id: "Error", description: "The one error shape of every route" });

export const health = z.strictObject({ status: z.literal("ok") });
export const ready = z.strictObject({ status: z.literal("ready") });

export const readingStored = z
  .strictObject({ status: z.enum(["stored", "duplicate"]) })
  .meta({ id: "ReadingStored", description: "201 stored (new), 200 duplicate (a replay, stored once)" });

export const batchStored = z
  .strictObject({
    status: z.literal("stored"),
    stored: count.describe("Readings that were new"),
    duplicates: count.describe("Replays of readings already stored"),
  })
  .meta({ id: "BatchStored", description: "201 when any reading was new, else 200" });

export const meterState = z
  .strictObject({ meterId: uuid, name, kwhConsumedAc: kwh, voltage: z.number(), lastUpdated: instant })
  .meta({ id: "MeterState", description: "The meter's latest reading" });

export const vehicleState = z
  .strictObject({
    vehicleId: uuid,
    name,
    soc: z.number().describe("State of charge, %"),
    kwhDeliveredDc: kwh,
    batteryTemp: z.number().describe("°C"),
    lastUpdated: instant,
  })
  .meta({ id: "VehicleState", description: "The vehicle's latest reading" });

export const mapping = z
  .strictObject({
    vehicleId: uuid,
    vehicleName: name,
    meterId: uuid,
    meterName: name,
    linkedAt: instant.nullable().describe("null: from the start of the meter's history"),
    unlinkedAt: instant.nullable().describe("null: still linked"),
    isActive: z.boolean(),
    createdAt: instant,
    updatedAt: instant,
  })
  .meta({ id: "Mapping", description: "A meter's link to a vehicle over [linkedAt, unlinkedAt)" });

export const mappingList = z.strictObject({ mappings: z.array(mapping) });

export const qualityFlag = z
  .strictObject({
    code: z.enum(["efficiency_above_one", "low_coverage", "battery_overheat", "dc_without_meter", "meter_shared"]),
    message: z.string(),
  })
  .meta({ id: "QualityFlag", description: "What makes a figure doubtful" });

export const vehiclePerformance = z
  .strictObject({
    vehicleId: uuid,
    name,
    from: instant,
    to: instant,
    totalAcConsumption: kwh,
    totalDcDelivery: kwh,
    efficiencyRatio: ratio,
    avgBatteryTemp: z.number().nullable(),
    dataPoints: count,
    expectedPoints: count.describe(
      "One reading a minute, from the vehicle's first reading when that is inside the window, up to the window's end or now, whichever is sooner",
    ),
    coverage: z
      .number()
      .nullable()
      .describe("dataPoints / expectedPoints, to 4 decimal places; null when none expected"),
    maxBatteryTemp: z.number().nullable(),
    quality: z.array(qualityFlag),
  })
  .meta({ id: "VehiclePerformance" });

export const vehicleSeries = z
  .strictObject({
    vehicleId: uuid,
    name,
    bucket: z.enum(["hour", "day"]),
    from: instant.describe("Widened down to a bucket boundary"),
    to: instant.describe("Widened up to a bucket boundary"),
    points: z.array(
      z.strictObject({
        start: instant,
        totalAcConsumption: kwh,
        totalDcDelivery: kwh,
        efficiencyRatio: ratio,
        avgBatteryTemp: z.number().nullable(),
        maxBatteryTemp: z.number().nullable(),
        socMin: z.number().nullable(),
        socMax: z.number().nullable(),
        dataPoints: count,
      }),
    ),
  })
  .meta({ id: "VehicleSeries", description: "Every bucket of the window, empty ones with zero energy" });

const fleetVehicle = z
  .strictObject({
    vehicleId: uuid,
    name,
    totalAcConsumption: kwh,
    totalDcDelivery: kwh,
    efficiencyRatio: ratio,
    dataPoints: count,
    coverage: z
      .number()
      .nullable()
      .describe(
        "dataPoints over the readings expected (one a minute from the window's start or the vehicle's first reading, whichever is later, up to asOf)",
      ),
    maxBatteryTemp: z.number().nullable(),
    quality: z.array(qualityFlag),
  })
  .meta({ id: "FleetVehicle" });

export const fleetView = z
  .strictObject({
    from: instant.describe("Start of the window, widened down to a whole hour"),
    to: instant.describe("End of the window, widened up to a whole hour (by default the current hour's end)"),
    asOf: instant.describe("What the figures run to: `to`, or the instant of the request when `to` is later"),
    totals: z.strictObject({
      vehicles: count.describe("Vehicles with readings, or with linked meters' readings, in the window"),
      totalAcConsumption: kwh.describe(
        "Paired AC, kWh: meters' AC counted toward vehicles with readings in the window",
      ),
      totalDcDelivery: kwh.describe("Paired DC, kWh: DC of vehicles with linked meters' readings in the window"),
      efficiencyRatio: ratio.describe("Paired DC over paired AC, to 4 decimal places; null without paired AC"),
      unpaired: z
        .strictObject({
          dcKwh: kwh.describe("DC, kWh, of vehicles with readings but no linked meter's reading in the window"),
          vehicles: count.describe("How many such vehicles"),
          acKwh: kwh.describe(
            "AC, kWh, of meter readings counted toward no vehicle with readings in the window: read while linked to no vehicle, or to a vehicle with no reading in the window",
          ),
          meters: count.describe("How many meters had such readings"),
        })
        .describe("Energy whose other side is unknown, left out of the totals, spread and ranks above"),
      dataPoints: count.describe("Readings of every vehicle in the window"),
      expectedPoints: count.describe(
        "Readings expected of those vehicles: one a minute each, from its first reading when that is inside the window, up to asOf",
      ),
      expectedPointsPerVehicle: count.describe(
        "Readings expected of a vehicle seen before the window: one a minute, up to asOf",
      ),
    }),
    efficiencyDistribution: z
      .array(
        z.strictObject({
          min: z.number().nullable().describe("Inclusive; null: open below"),
          max: z.number().nullable().describe("Exclusive (1 is in the bucket below it); null: open above"),
          vehicles: count,
        }),
      )
      .describe("Paired vehicles by efficiency, 0.05 wide from 0.5 to 1"),
    leastEfficient: z.array(fleetVehicle).describe("Up to 10 paired vehicles, among efficiencies at most 1"),
    mostEfficient: z.array(fleetVehicle).describe("Up to 10 paired vehicles, among efficiencies at most 1"),
    needsAttention: z.strictObject({
      total: count,
      limit: count,
      offset: count,
      vehicles: z.array(fleetVehicle).describe("Those with quality flags, the most flagged first"),
    }),
  })
  .meta({ id: "FleetView" });

const EXAMPLE_VEHICLE = "660e8400-e29b-41d4-a716-446655440000";
const EXAMPLE_METER = "550e8400-e29b-41d4-a716-446655440000";
const profileName = z.string().min(1).max(100).describe("What operators call the device, 1-100 characters");
const updatedAt = instant.describe("When the name was last set");

export const vehicleProfile = z.strictObject({ vehicleId: uuid, name: profileName, updatedAt }).meta({
  id: "VehicleProfile",
  description: "A vehicle's name",
  examples: [{ vehicleId: EXAMPLE_VEHICLE, name: "Van 042", updatedAt: "2026-03-15T11:00:00.000Z" }],
});

export const meterProfile = z.strictObject({ meterId: uuid, name: profileName, updatedAt }).meta({
  id: "MeterProfile",
  description: "A meter's name",
  examples: [{ meterId: EXAMPLE_METER, name: "Depot bay 7", updatedAt: "2026-03-15T11:00:00.000Z" }],
});

export const searchResults = z
  .strictObject({
    results: z
      .array(
        z.strictObject({
          kind: z.enum(["vehicle", "meter"]).describe("Which kind of device the id is"),
          id: uuid,
          name,
        }),
      )
      .describe("An exact id first, then ids starting with q, then names containing q; vehicles before meters"),
  })
  .meta({
    id: "SearchResults",
    description: "Vehicles and meters found by id or name, at most `limit`",
    examples: [
      {
        results: [
          { kind: "vehicle", id: EXAMPLE_VEHICLE, name: "Van 042" },
          { kind: "meter", id: EXAMPLE_METER, name: "Van 042 home charger" },
        ],
      },
    ],
  });

const devices = z.strictObject({ total: count, seenLast5Minutes: count, staleOver15Minutes: count });

export const adminStats = z
  .strictObject({
    at: instant,
    partitions: z.array(
      z.strictObject({
        table: z.string(),
        name: z.string(),
        from: instant,
        to: instant,
        rowEstimate: count.nullable().describe("PostgreSQL's estimate; null until analysed"),
        sizeBytes: z.number().min(0),
      }),
    ),
    ingestionLag: z.strictObject({
      window: z.string(),
      readings: count,
      averageSeconds: z.number().nullable(),
      p95Seconds: z.number().nullable(),
    }),
    devices: z.strictObject({
      meters: devices,
      vehicles: devices,
      stale: z.array(z.strictObject({ kind: z.enum(["meter", "vehicle"]), id: z.string(), lastUpdated: instant })),
    }),
    rollups: z
      .strictObject({
        pendingReadings: count.describe(
          "readings stored but not yet added to the rollups (they count in every answer)",
        ),
        oldestPendingSeconds: z.number().min(0).describe("age of the oldest of them; 0 when none is pending"),
        lastRunAt: instant.nullable().describe("when the aggregator (of any instance) last finished a run"),
      })
      .describe("how far the rollup aggregator lags behind the readings"),
  })
  .meta({ id: "AdminStats" });

const apiKey = z
  .strictObject({
    id: z.string().regex(/^[0-9a-f]{16}$/),
    name: z.string(),
    scopes: z.array(z.enum(SCOPES)),
    createdAt: instant,
    revokedAt: instant.nullable(),
  })
  .meta({ id: "ApiKey", description: "A key, without its secret" });

export const apiKeyCreated = z
  .strictObject({ ...apiKey.shape, key: z.string().describe("The whole key, shown this once only") })
  .meta({ id: "ApiKeyCreated" });
export const apiKeyList = z.strictObject({ keys: z.array(apiKey) });
export const apiKeyRevoked = z.strictObject({ id: z.string(), revoked: z.literal(true) });
