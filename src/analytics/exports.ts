// What the analytics answers carry beyond their figures: each vehicle's name beside its id,
// and the CSV form of the fleet's vehicles and of a vehicle's series. Kept apart from the
// figures' own modules, which stay about the figures.
import type { Context } from "hono";
import type { Queryable } from "../db/client.ts";
import { namesOf } from "../devices/profiles.ts";
import { csvResponse, fileInstant } from "./csv.ts";
import type { VehicleFigures } from "./fleet.ts";
import type { vehicleSeries } from "./series.ts";

type Series = NonNullable<Awaited<ReturnType<typeof vehicleSeries>>>;

/** The answer with `name` right after its `vehicleId`. */
export function named<T extends { vehicleId: string }>(answer: T, names: Map<string, string | null>) {
  const { vehicleId, ...rest } = answer;
  return { vehicleId, name: names.get(vehicleId) ?? null, ...rest };
}

/** A one-vehicle answer (performance, series) with the vehicle's name. */
export async function withVehicleName<T extends { vehicleId: string }>(sql: Queryable, answer: T) {
  return named(answer, await namesOf(sql, "vehicle", [answer.vehicleId]));
}

interface FleetLists {
  leastEfficient: { vehicleId: string }[];
  mostEfficient: { vehicleId: string }[];
  needsAttention: { vehicles: { vehicleId: string }[] };
}

/** The fleet view with a name beside every vehicle it lists, in one look-up. */
export async function withFleetNames<T extends FleetLists>(sql: Queryable, view: T) {
  const listed = [...view.leastEfficient, ...view.mostEfficient, ...view.needsAttention.vehicles];
  const names = await namesOf(
    sql,
    "vehicle",
    listed.map((vehicle) => vehicle.vehicleId),
  );
  return {
    ...view,
    leastEfficient: view.leastEfficient.map((vehicle) => named(vehicle, names)),
    mostEfficient: view.mostEfficient.map((vehicle) => named(vehicle, names)),
    needsAttention: {
      ...view.needsAttention,
      vehicles: view.needsAttention.vehicles.map((vehicle) => named(vehicle, names)),
    },
  };
}

const FLEET_HEADER = [
  "vehicle_id",
  "name",
  "ac_kwh",
  "dc_kwh",
  "efficiency_ratio",
  "data_points",
  "coverage",
  "max_battery_temp_c",
  "quality_flags",
] as const;

/** Every vehicle of the fleet over the window, by id, one row each (not paged). */
export async function fleetCsv(
  c: Context,
  sql: Queryable,
  window: { from: string; to: string },
  all: VehicleFigures[],
) {
  const names = await namesOf(
    sql,
    "vehicle",
    all.map((vehicle) => vehicle.vehicleId),
  );
  const rows = all
    .sort((a, b) => (a.vehicleId < b.vehicleId ? -1 : 1))
    .map((vehicle) => [
      vehicle.vehicleId,
      names.get(vehicle.vehicleId) ?? null,
      vehicle.totalAcConsumption,
      vehicle.totalDcDelivery,
      vehicle.efficiencyRatio,
      vehicle.dataPoints,
      vehicle.coverage,
      vehicle.maxBatteryTemp,
      vehicle.quality.map((flag) => flag.code).join(" "),
    ]);
  return csvResponse(c, `fleet_${fileInstant(window.from)}_${fileInstant(window.to)}.csv`, FLEET_HEADER, rows);
}

const SERIES_HEADER = [
  "start",
  "ac_kwh",
  "dc_kwh",
  "efficiency_ratio",
  "avg_battery_temp_c",
  "max_battery_temp_c",
  "soc_min",
  "soc_max",
  "data_points",
] as const;

/** The vehicle's buckets, one row each, as the JSON lists them. */
export function seriesCsv(c: Context, series: Series) {
  const rows = series.points.map((point) => [
    point.start,
    point.totalAcConsumption,
    point.totalDcDelivery,
    point.efficiencyRatio,
    point.avgBatteryTemp,
    point.maxBatteryTemp,
    point.socMin,
    point.socMax,
    point.dataPoints,
  ]);
  const name = `vehicle_${series.vehicleId}_${series.bucket}_${fileInstant(series.from)}_${fileInstant(series.to)}.csv`;
  return csvResponse(c, name, SERIES_HEADER, rows);
}
