// The shapes of the /v1 answers the dashboard reads, as far as it reads them: the fleet
// view, one vehicle's figures, live state and series, a meter's state, links and search
// results. Hand-written to match src/openapi/responses.ts. Types only, so nothing here
// reaches the bundle.

export interface Flag {
  code: string;
  message: string;
}
export interface FleetVehicle {
  vehicleId: string;
  name: string | null;
  totalAcConsumption: number;
  totalDcDelivery: number;
  efficiencyRatio: number | null;
  dataPoints: number;
  coverage: number | null;
  maxBatteryTemp: number | null;
  quality: Flag[];
}
export interface FleetView {
  from: string;
  to: string;
  /** Where the figures stop: the sooner of `to` and now (older services omit it). */
  asOf?: string;
  totals: {
    vehicles: number;
    totalAcConsumption: number;
    totalDcDelivery: number;
    efficiencyRatio: number | null;
    dataPoints: number;
    expectedPointsPerVehicle: number;
    /** Readings expected of every vehicle, each from when it was first seen, up to `asOf`. */
    expectedPoints: number;
    /** Energy with no other side known (DC of vehicles with no meter, AC of meters with no vehicle); newer services only. */
    unpaired?: { dcKwh: number; vehicles: number; acKwh: number; meters: number };
  };
  efficiencyDistribution: { min: number | null; max: number | null; vehicles: number }[];
  leastEfficient: FleetVehicle[];
  mostEfficient: FleetVehicle[];
  needsAttention: { total: number; limit: number; offset: number; vehicles: FleetVehicle[] };
}
export interface VehiclePerformance {
  vehicleId: string;
  name: string | null;
  from: string;
  to: string;
  totalAcConsumption: number;
  totalDcDelivery: number;
  efficiencyRatio: number | null;
  avgBatteryTemp: number | null;
  dataPoints: number;
  expectedPoints: number;
  coverage: number | null;
  maxBatteryTemp: number | null;
  quality: Flag[];
}
export interface VehicleState {
  vehicleId: string;
  name: string | null;
  soc: number;
  kwhDeliveredDc: number;
  batteryTemp: number;
  lastUpdated: string;
}
export interface SeriesPoint {
  start: string;
  totalAcConsumption: number;
  totalDcDelivery: number;
  efficiencyRatio: number | null;
  maxBatteryTemp: number | null;
  socMin: number | null;
  socMax: number | null;
  dataPoints: number;
}
export interface Series {
  vehicleId: string;
  name: string | null;
  bucket: "hour" | "day";
  from: string;
  to: string;
  points: SeriesPoint[];
}
export interface MeterState {
  meterId: string;
  name: string | null;
  kwhConsumedAc: number;
  voltage: number;
  lastUpdated: string;
}
export interface Mapping {
  vehicleId: string;
  vehicleName: string | null;
  meterId: string;
  meterName: string | null;
  linkedAt: string | null;
  unlinkedAt: string | null;
  isActive: boolean;
}
export interface SearchResult {
  kind: "vehicle" | "meter";
  id: string;
  name: string | null;
}
