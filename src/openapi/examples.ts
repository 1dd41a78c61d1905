// Examples for /openapi.json: a request and an answer for every operation, in the same
// story as the README (one meter, one vehicle, 9 February 2026). The document test holds
// each to its schema, so an example that drifts from the API fails there.
const METER = "550e8400-e29b-41d4-a716-446655440000";
const VEHICLE = "660e8400-e29b-41d4-a716-446655440000";

export const meterReading = { meterId: METER, kwhConsumedAc: 50.5, voltage: 230, timestamp: "2026-02-09T14:00:00Z" };
export const vehicleReading = {
  vehicleId: VEHICLE,
  soc: 75.5,
  kwhDeliveredDc: 40.3,
  batteryTemp: 25.5,
  timestamp: "2026-02-09T14:00:00Z",
};

export const batch = {
  meters: [meterReading, { ...meterReading, kwhConsumedAc: 0.83, timestamp: "2026-02-09T14:01:00Z" }],
  vehicles: [vehicleReading, { ...vehicleReading, kwhDeliveredDc: 0.7, soc: 75.9, timestamp: "2026-02-09T14:01:00Z" }],
};

export const ndjsonUpload = [
  JSON.stringify({ type: "meter", ...meterReading }),
  JSON.stringify({ type: "vehicle", ...vehicleReading }),
  "",
].join("\n");

export const link = { vehicleId: VEHICLE, meterId: METER };

export const mapping = {
  vehicleId: VEHICLE,
  vehicleName: "Van 042",
  meterId: METER,
  meterName: "Depot bay 7",
  linkedAt: null,
  unlinkedAt: null,
  isActive: true,
  createdAt: "2026-02-09T14:05:00.000Z",
  updatedAt: "2026-02-09T14:05:00.000Z",
};

export const closedMapping = {
  ...mapping,
  unlinkedAt: "2026-02-10T08:00:00.000Z",
  isActive: false,
  updatedAt: "2026-02-10T08:00:00.000Z",
};

export const vehicleState = {
  vehicleId: VEHICLE,
  name: "Van 042",
  soc: 75.5,
  kwhDeliveredDc: 40.3,
  batteryTemp: 25.5,
  lastUpdated: "2026-02-09T14:00:00.000Z",
};

export const meterState = {
  meterId: METER,
  name: "Depot bay 7",
  kwhConsumedAc: 50.5,
  voltage: 230,
  lastUpdated: "2026-02-09T14:00:00.000Z",
};

const lowCoverage = {
  code: "low_coverage",
  message: "1 of 1440 expected readings (coverage below 0.9)",
};

export const performance = {
  vehicleId: VEHICLE,
  name: "Van 042",
  from: "2026-02-09T00:00:00.000Z",
  to: "2026-02-10T00:00:00.000Z",
  totalAcConsumption: 50.5,
  totalDcDelivery: 40.3,
  efficiencyRatio: 0.798,
  avgBatteryTemp: 25.5,
  dataPoints: 1,
  expectedPoints: 1440,
  coverage: 0.0007,
  maxBatteryTemp: 25.5,
  quality: [lowCoverage],
};

const emptyPoint = (start: string) => ({
  start,
  totalAcConsumption: 0,
  totalDcDelivery: 0,
  efficiencyRatio: null,
  avgBatteryTemp: null,
  maxBatteryTemp: null,
  socMin: null,
  socMax: null,
  dataPoints: 0,
});

export const series = {
  vehicleId: VEHICLE,
  name: "Van 042",
  bucket: "hour",
  from: "2026-02-09T13:00:00.000Z",
  to: "2026-02-09T16:00:00.000Z",
  points: [
    emptyPoint("2026-02-09T13:00:00.000Z"),
    {
      start: "2026-02-09T14:00:00.000Z",
      totalAcConsumption: 50.5,
      totalDcDelivery: 40.3,
      efficiencyRatio: 0.798,
      avgBatteryTemp: 25.5,
      maxBatteryTemp: 25.5,
      socMin: 75.5,
      socMax: 75.5,
      dataPoints: 1,
    },
    emptyPoint("2026-02-09T15:00:00.000Z"),
  ],
};

const fleetVehicle = {
  vehicleId: VEHICLE,
  name: "Van 042",
  totalAcConsumption: 50.5,
  totalDcDelivery: 40.3,
  efficiencyRatio: 0.798,
  dataPoints: 1,
  coverage: 0.0007,
  maxBatteryTemp: 25.5,
  quality: [lowCoverage],
};

const EDGES = [0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 1];

export const fleet = {
  from: "2026-02-09T00:00:00.000Z",
  to: "2026-02-10T00:00:00.000Z",
  asOf: "2026-02-10T00:00:00.000Z",
  totals: {
    vehicles: 1,
    totalAcConsumption: 50.5,
    totalDcDelivery: 40.3,
    efficiencyRatio: 0.798,
    unpaired: { dcKwh: 0, vehicles: 0, acKwh: 0, meters: 0 },
    dataPoints: 1,
    expectedPoints: 1440,
    expectedPointsPerVehicle: 1440,
  },
  efficiencyDistribution: [
    { min: null, max: 0.5, vehicles: 0 },
    ...EDGES.slice(0, -1).map((min, i) => ({ min, max: EDGES[i + 1], vehicles: min === 0.75 ? 1 : 0 })),
    { min: 1, max: null, vehicles: 0 },
  ],
  leastEfficient: [fleetVehicle],
  mostEfficient: [fleetVehicle],
  needsAttention: { total: 1, limit: 50, offset: 0, vehicles: [fleetVehicle] },
};

const devices = { total: 1, seenLast5Minutes: 1, staleOver15Minutes: 0 };

export const adminStats = {
  at: "2026-02-09T14:10:00.000Z",
  partitions: [
    {
      table: "vehicle_telemetry",
      name: "vehicle_telemetry_2026_02",
      from: "2026-02-01T00:00:00.000Z",
      to: "2026-03-01T00:00:00.000Z",
      rowEstimate: 1,
      sizeBytes: 65536,
    },
  ],
  ingestionLag: { window: "1 hour", readings: 2, averageSeconds: 0.012, p95Seconds: 0.02 },
  devices: { meters: devices, vehicles: devices, stale: [] },
  rollups: { pendingReadings: 0, oldestPendingSeconds: 0, lastRunAt: "2026-02-09T14:09:59.800Z" },
};

const apiKey = {
  id: "3f9a1c0b7d2e4a65",
  name: "depot-7 gateway",
  scopes: ["ingest"],
  createdAt: "2026-02-09T09:00:00.000Z",
  revokedAt: null,
};

export const profile = { name: "Van 042" };
export const vehicleProfile = { vehicleId: VEHICLE, name: "Van 042", updatedAt: "2026-03-15T11:00:00.000Z" };
export const meterProfile = { meterId: METER, name: "Depot bay 7", updatedAt: "2026-03-15T11:00:00.000Z" };

export const seriesCsv = [
  "start,ac_kwh,dc_kwh,efficiency_ratio,avg_battery_temp_c,max_battery_temp_c,soc_min,soc_max,data_points",
  "2026-02-09T13:00:00.000Z,0,0,,,,,,0",
  "2026-02-09T14:00:00.000Z,50.5,40.3,0.798,25.5,25.5,75.5,75.5,1",
  "",
].join("\r\n");

export const fleetCsv = [
  "vehicle_id,name,ac_kwh,dc_kwh,efficiency_ratio,data_points,coverage,max_battery_temp_c,quality_flags",
  `${VEHICLE},Van 042,50.5,40.3,0.798,1,0.0007,25.5,low_coverage`,
  "",
].join("\r\n");

export const newKey = { name: "depot-7 gateway", scopes: ["ingest"] };
export const apiKeyCreated = { ...apiKey, key: "fk_3f9a1c0b7d2e4a65_Vt4qk2ZcQm8xR1pL0sYw9nHe" };
export const apiKeyList = { keys: [apiKey] };
export const apiKeyRevoked = { id: apiKey.id, revoked: true };

export const metricsText = [
  "# HELP fleet_readings_total Readings accepted, by device kind and outcome (stored or duplicate).",
  "# TYPE fleet_readings_total counter",
  'fleet_readings_total{kind="meter",outcome="stored"} 1440',
  'fleet_readings_total{kind="vehicle",outcome="stored"} 1440',
  "",
].join("\n");

export const openApiText = '{"openapi":"3.1.0","info":{"title":"Fleet energy telemetry","version":"v1"},"paths":{…}}';
