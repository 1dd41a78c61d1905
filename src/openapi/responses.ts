// What each route answers, as zod schemas: the response half of /openapi.json (the request
// half comes from the schemas that validate requests). Objects are strict, so a field
// added to an answer without being written down here fails the response checks of the
// route tests instead of going undocumented.
import { z } from "zod";
import { SCOPES } from "../keys/store.ts";

const instant = z.iso.datetime({ offset: true }).describe("An ISO-8601 instant, e.g. 2026-03-15T11:00:00.000Z");
const uuid = z
  .string()
  .regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/)
  .describe("A device id (UUID), lower case");
const kwh = z.number().describe("kWh, to 3 decimal places");
const ratio = z
  .number()
  .nullable()
  .describe("DC delivered over AC drawn, a ratio to 4 decimal places; null without AC");
const acTotal = kwh.describe("kWh of AC drawn by the meters linked to the vehicle while linked, to 3 decimal places");
const dcTotal = kwh.describe("kWh of DC delivered to the battery, to 3 decimal places");
const count = z.int().min(0);
const name = z
  .string()
  .nullable()
  .describe("What operators call the device (PUT .../profile); null when it has no name");
const celsius = z.number().nullable();

export const errorBody = z
  .strictObject({
    error: z
      .strictObject({
        code: z.string().describe("Stable, machine-readable: validation_failed, unauthorized, not_found, ..."),
        message: z.string().describe("For people; may change"),
        details: z
          .unknown()
          .optional()
          .describe("For validation_failed: [{field, message, line?}], one per bad field (batch items by index)"),
      })
      .describe("What went wrong"),
  })
  .meta({ id: "Error", description: "The one error shape of every route" });

export const health = z.strictObject({ status: z.literal("ok").describe("Always ok: the process answers") });
export const ready = z.strictObject({
  status: z.literal("ready").describe("Always ready: the database answers and is migrated"),
});

export const readingStored = z
  .strictObject({
    status: z.enum(["stored", "duplicate"]).describe("stored: a new reading; duplicate: a replay, already stored"),
  })
  .meta({ id: "ReadingStored", description: "201 stored (new), 200 duplicate (a replay, stored once)" });

export const batchStored = z
  .strictObject({
    status: z.literal("stored").describe("Always stored: the whole batch is committed"),
    stored: count.describe("Count of readings that were new"),
    duplicates: count.describe("Count of replays of readings already stored"),
  })
  .meta({ id: "BatchStored", description: "201 when any reading was new, else 200" });

export const meterState = z
  .strictObject({
    meterId: uuid,
    name,
    kwhConsumedAc: kwh.describe("kWh the latest reading's interval drew (AC), to 3 decimal places"),
    voltage: z.number().describe("Supply voltage of the latest reading, V"),
    lastUpdated: instant.describe("When the latest reading was taken"),
  })
  .meta({ id: "MeterState", description: "The meter's latest reading" });

export const vehicleState = z
  .strictObject({
    vehicleId: uuid,
    name,
    soc: z.number().describe("State of charge, %"),
    kwhDeliveredDc: kwh.describe("kWh the latest reading's interval delivered (DC), to 3 decimal places"),
    batteryTemp: z.number().describe("Battery temperature, °C"),
    lastUpdated: instant.describe("When the latest reading was taken"),
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
    isActive: z.boolean().describe("Whether the link is open (unlinkedAt is null)"),
    createdAt: instant.describe("When the link was made"),
    updatedAt: instant.describe("When the link last changed (closed)"),
  })
  .meta({ id: "Mapping", description: "A meter's link to a vehicle over [linkedAt, unlinkedAt)" });

export const mappingList = z.strictObject({
  mappings: z.array(mapping).describe("The links, by vehicle, meter and start"),
});

export const qualityFlag = z
  .strictObject({
    code: z
      .enum(["efficiency_above_one", "low_coverage", "battery_overheat", "dc_without_meter", "meter_shared"])
      .describe("Stable, machine-readable: which doubt (docs/design.md explains each)"),
    message: z.string().describe("The doubt in words, with the figures behind it"),
  })
  .meta({ id: "QualityFlag", description: "What makes a figure doubtful" });

export const vehiclePerformance = z
  .strictObject({
    vehicleId: uuid,
    name,
    from: instant.describe("Start of the window, inclusive"),
    to: instant.describe("End of the window, exclusive"),
    totalAcConsumption: acTotal,
    totalDcDelivery: dcTotal,
    efficiencyRatio: ratio,
    avgBatteryTemp: celsius.describe("Mean battery temperature over the vehicle's readings, °C; null without readings"),
    dataPoints: count.describe("Count of the vehicle's readings in the window"),
    expectedPoints: count.describe(
      "Count of readings expected: one a minute, from the vehicle's first reading when that is inside the window, up to the window's end or now, whichever is sooner",
    ),
    coverage: z
      .number()
      .nullable()
      .describe(
        "dataPoints / expectedPoints, a ratio to 4 decimal places (1: every minute reported); null when none expected",
      ),
    maxBatteryTemp: celsius.describe("Highest battery temperature of the window, °C; null without readings"),
    quality: z.array(qualityFlag).describe("What makes the figures doubtful; empty when nothing does"),
  })
  .meta({ id: "VehiclePerformance" });

export const vehicleSeries = z
  .strictObject({
    vehicleId: uuid,
    name,
    bucket: z.enum(["hour", "day"]).describe("The width of each point: an hour or a UTC day"),
    from: instant.describe("Widened down to a bucket boundary"),
    to: instant.describe("Widened up to a bucket boundary"),
    points: z
      .array(
        z.strictObject({
          start: instant.describe("Start of the bucket; it ends where the next starts"),
          totalAcConsumption: acTotal,
          totalDcDelivery: dcTotal,
          efficiencyRatio: ratio,
          avgBatteryTemp: celsius.describe("Mean battery temperature in the bucket, °C; null without readings"),
          maxBatteryTemp: celsius.describe("Highest battery temperature in the bucket, °C; null without readings"),
          socMin: z.number().nullable().describe("Lowest state of charge in the bucket, %; null without readings"),
          socMax: z.number().nullable().describe("Highest state of charge in the bucket, %; null without readings"),
          dataPoints: count.describe("Count of the vehicle's readings in the bucket"),
        }),
      )
      .describe("One point a bucket, oldest first"),
  })
  .meta({ id: "VehicleSeries", description: "Every bucket of the window, empty ones with zero energy" });

const fleetVehicle = z
  .strictObject({
    vehicleId: uuid,
    name,
    totalAcConsumption: acTotal,
    totalDcDelivery: dcTotal,
    efficiencyRatio: ratio,
    dataPoints: count.describe("Count of the vehicle's readings in the window"),
    coverage: z
      .number()
      .nullable()
      .describe(
        "dataPoints over the readings expected (one a minute from the window's start or the vehicle's first reading, whichever is later, up to asOf), a ratio",
      ),
    maxBatteryTemp: celsius.describe("Highest battery temperature of the window, °C; null without readings"),
    quality: z.array(qualityFlag).describe("What makes the figures doubtful; empty when nothing does"),
  })
  .meta({ id: "FleetVehicle", description: "One vehicle's figures over the window" });

export const fleetView = z
  .strictObject({
    from: instant.describe("Start of the window, widened down to a whole hour"),
    to: instant.describe("End of the window, widened up to a whole hour (by default the current hour's end)"),
    asOf: instant.describe("What the figures run to: `to`, or the instant of the request when `to` is later"),
    totals: z
      .strictObject({
        vehicles: count.describe("Count of vehicles with readings, or with linked meters' readings, in the window"),
        totalAcConsumption: kwh.describe(
          "Paired AC, kWh: meters' AC counted toward vehicles with readings in the window",
        ),
        totalDcDelivery: kwh.describe("Paired DC, kWh: DC of vehicles with linked meters' readings in the window"),
        efficiencyRatio: ratio.describe(
          "Paired DC over paired AC, a ratio to 4 decimal places; null without paired AC",
        ),
        unpaired: z
          .strictObject({
            dcKwh: kwh.describe("DC, kWh, of vehicles with readings but no linked meter's reading in the window"),
            vehicles: count.describe("Count of such vehicles"),
            acKwh: kwh.describe(
              "AC, kWh, of meter readings counted toward no vehicle with readings in the window: read while linked to no vehicle, or to a vehicle with no reading in the window",
            ),
            meters: count.describe("Count of meters with such readings"),
          })
          .describe("Energy whose other side is unknown, left out of the totals, spread and ranks above"),
        dataPoints: count.describe("Count of readings of every vehicle in the window"),
        expectedPoints: count.describe(
          "Count of readings expected of those vehicles: one a minute each, from its first reading when that is inside the window, up to asOf",
        ),
        expectedPointsPerVehicle: count.describe(
          "Count of readings expected of a vehicle seen before the window: one a minute, up to asOf",
        ),
      })
      .describe("The whole fleet's figures: paired energy, with the unpaired beside it"),
    efficiencyDistribution: z
      .array(
        z.strictObject({
          min: z.number().nullable().describe("Lower edge, an efficiency ratio, inclusive; null: open below"),
          max: z
            .number()
            .nullable()
            .describe("Upper edge, an efficiency ratio, exclusive (1 is in the bucket below it); null: open above"),
          vehicles: count.describe("Count of vehicles in the bucket"),
        }),
      )
      .describe("Paired vehicles by efficiency, 0.05 wide from 0.5 to 1"),
    leastEfficient: z.array(fleetVehicle).describe("Up to 10 paired vehicles, among efficiencies at most 1"),
    mostEfficient: z.array(fleetVehicle).describe("Up to 10 paired vehicles, among efficiencies at most 1"),
    needsAttention: z
      .strictObject({
        total: count.describe("Count of flagged vehicles, on every page"),
        limit: count.describe("Page size asked for (count)"),
        offset: count.describe("Count of flagged vehicles skipped before this page"),
        vehicles: z.array(fleetVehicle).describe("Those with quality flags, the most flagged first"),
      })
      .describe("A page of the vehicles whose figures are doubtful"),
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

const devices = z
  .strictObject({
    total: count.describe("Count of devices that ever reported"),
    seenLast5Minutes: count.describe("Count of those that reported in the last 5 minutes"),
    staleOver15Minutes: count.describe("Count of those silent for over 15 minutes"),
  })
  .describe("Liveness of one kind of device");

export const adminStats = z
  .strictObject({
    at: instant.describe("When the figures were read"),
    partitions: z
      .array(
        z.strictObject({
          table: z.string().describe("The partitioned table, e.g. vehicle_telemetry"),
          name: z.string().describe("The partition, e.g. vehicle_telemetry_2026_03"),
          from: instant.describe("Start of the partition's month, inclusive"),
          to: instant.describe("End of the partition's month, exclusive"),
          rowEstimate: count.nullable().describe("PostgreSQL's estimate of its rows (count); null until analysed"),
          sizeBytes: z.number().min(0).describe("Size on disk, bytes, indexes included"),
        }),
      )
      .describe("Every monthly partition of the cold store"),
    ingestionLag: z
      .strictObject({
        window: z.string().describe("Over which readings, e.g. the last hour"),
        readings: count.describe("Count of readings the figures are over"),
        averageSeconds: z
          .number()
          .nullable()
          .describe("Mean of ingested_at - recorded_at, seconds; null without readings"),
        p95Seconds: z.number().nullable().describe("95th percentile of the same, seconds; null without readings"),
      })
      .describe("How long readings took from the device to the store"),
    devices: z
      .strictObject({
        meters: devices,
        vehicles: devices,
        stale: z
          .array(
            z.strictObject({
              kind: z.enum(["meter", "vehicle"]).describe("Which kind of device"),
              id: z.string().describe("The device's id"),
              lastUpdated: instant.describe("When it last reported"),
            }),
          )
          .describe("Devices silent for over 15 minutes, the longest silent first"),
      })
      .describe("Which devices report"),
    rollups: z
      .strictObject({
        pendingReadings: count.describe(
          "count of readings stored but not yet added to the rollups (they count in every answer)",
        ),
        oldestPendingSeconds: z.number().min(0).describe("age of the oldest of them, seconds; 0 when none is pending"),
        lastRunAt: instant.nullable().describe("when the aggregator (of any instance) last finished a run"),
      })
      .describe("how far the rollup aggregator lags behind the readings"),
  })
  .meta({ id: "AdminStats" });

const apiKey = z
  .strictObject({
    id: z
      .string()
      .regex(/^[0-9a-f]{16}$/)
      .describe("The key's id, 16 hex digits"),
    name: z.string().describe("What the key is for"),
    scopes: z.array(z.enum(SCOPES)).describe("What the key may do: ingest, read, admin"),
    createdAt: instant.describe("When the key was made"),
    revokedAt: instant.nullable().describe("When it was revoked; null: valid"),
  })
  .meta({ id: "ApiKey", description: "A key, without its secret" });

export const apiKeyCreated = z
  .strictObject({ ...apiKey.shape, key: z.string().describe("The whole key, shown this once only") })
  .meta({ id: "ApiKeyCreated" });
export const apiKeyList = z.strictObject({ keys: z.array(apiKey).describe("The keys, newest first") });
export const apiKeyRevoked = z.strictObject({
  id: z.string().describe("The key's id"),
  revoked: z.literal(true).describe("Always true: the key is refused from now on"),
});
