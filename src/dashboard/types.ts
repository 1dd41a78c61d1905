// The shapes of the /v1 answers the dashboard reads, as far as it reads them: the fleet
// view, one vehicle's live state and series, and its meter links. Types only, so nothing
// here reaches the bundle.

export interface Flag {
  code: string;
  message: string;
}
export interface FleetVehicle {
  vehicleId: string;
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
  totals: {
    vehicles: number;
    totalAcConsumption: number;
    totalDcDelivery: number;
    efficiencyRatio: number | null;
    dataPoints: number;
    expectedPointsPerVehicle: number;
  };
  efficiencyDistribution: { min: number | null; max: number | null; vehicles: number }[];
  leastEfficient: FleetVehicle[];
  mostEfficient: FleetVehicle[];
  needsAttention: { total: number; limit: number; offset: number; vehicles: FleetVehicle[] };
}
export interface VehicleState {
  vehicleId: string;
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
  bucket: "hour" | "day";
  from: string;
  to: string;
  points: SeriesPoint[];
}
export interface Mapping {
  vehicleId: string;
  meterId: string;
  linkedAt: string | null;
  unlinkedAt: string | null;
  isActive: boolean;
}
