// The fleet view's SQL over the daily rollups (src/rollups/rollup-sql.ts) and the readings
// still pending for them: a day's share of a window of whole hours is a sum of its hour
// columns, so every device costs one row per day, plus one per pending reading. The
// fleet cache (src/analytics/fleet-cache.ts) serves the last few days from memory; this
// serves longer windows, and the energy of links that start or end inside a window, read
// as energyQuery reads it.
import type { Queryable } from "../db/client.ts";
import { HOURS_OF_DAY } from "../rollups/rollup-sql.ts";
import { DAY_MS, HOUR_MS } from "../time.ts";
import { clippedLinks, iso, meterParts, type Window, withHours } from "./energy.ts";
import { firstSeenQuery } from "./first-seen.ts";

/** One vehicle's figures over a fleet window, with the links that fed it. */
export interface FleetVehicleEnergy {
  vehicleId: string;
  ac: number;
  dc: number;
  readings: number;
  tempMax: number | null;
  /** Meters linked to the vehicle at some point in the window. */
  meters: number;
  /** Of those, meters linked to another vehicle at an overlapping time. */
  sharedMeters: number;
  /** Meters with readings in the window while linked to the vehicle: its AC side, when any. */
  acMeters: string[];
  /** When the vehicle was first seen, in epoch ms, if after the window's start; null otherwise. */
  firstSeenMs: number | null;
}

/** A meter's readings in the window at instants when it was linked to no vehicle. */
export interface UnlinkedMeterEnergy {
  meterId: string;
  ac: number;
}

/** The fleet over a window: every vehicle's figures and the AC no link attributes. */
export interface FleetEnergy {
  vehicles: FleetVehicleEnergy[];
  unlinkedMeters: UnlinkedMeterEnergy[];
}

/**
 * The days a window of whole hours touches, as rows of the daily rollups: hours [lo, hi)
 * of the first and last day, all hours of those between. Fleet windows are whole hours
 * (the route rounds them); anything else is a caller's mistake.
 */
export function dailyPieces(window: Window) {
  const from = window.from.getTime();
  const to = window.to.getTime();
  if (from % HOUR_MS !== 0 || to % HOUR_MS !== 0 || from >= to) {
    throw new Error(`a fleet window must be whole hours, got [${iso(window.from)}, ${iso(window.to)})`);
  }
  const firstDay = Math.floor(from / DAY_MS) * DAY_MS;
  const lastDay = Math.floor((to - 1) / DAY_MS) * DAY_MS;
  const lo = (from - firstDay) / HOUR_MS;
  const hi = (to - lastDay) / HOUR_MS;
  return { firstDay: new Date(firstDay), lastDay: new Date(lastDay), lo, hi };
}

/**
 * The fleet is read in this many parts at once, by ranges of vehicle id, each on its own
 * connection and in one snapshot: one per core of the two-core machine it is measured on.
 */
export const FLEET_PARTS = 2;

/** [low, high) bounds of vehicle ids splitting the UUID space evenly; null is open. */
export function idRanges(parts: number): [string | null, string | null][] {
  const bound = (k: number) =>
    `${Math.floor((k * 0x1_0000_0000) / parts)
      .toString(16)
      .padStart(8, "0")}-0000-0000-0000-000000000000`;
  return Array.from({ length: parts }, (_, k) => [k === 0 ? null : bound(k), k === parts - 1 ? null : bound(k + 1)]);
}

/**
 * A day's share of a window of whole hours, over a daily rollup's rows: `inDays` picks the
 * rows, `share` adds up (or takes the greatest of) the hour columns [lo, hi) of each.
 */
export function dayShare(sql: Queryable, window: Window) {
  const { firstDay, lastDay, lo, hi } = dailyPieces(window);
  const hours = (prefix: string, first: number, last: number, combine: "sum" | "greatest") => {
    const columns = HOURS_OF_DAY.slice(first, last).map((hour) => `${prefix}_${hour}`);
    return combine === "sum" ? columns.join(" + ") : `greatest(${columns.join(", ")})`;
  };
  const share = (prefix: string, combine: "sum" | "greatest") =>
    sql`case when day = ${iso(firstDay)}::timestamptz then ${sql.unsafe(hours(prefix, lo, firstDay.getTime() === lastDay.getTime() ? hi : 24, combine))}
             when day = ${iso(lastDay)}::timestamptz then ${sql.unsafe(hours(prefix, 0, hi, combine))}
             else ${sql.unsafe(hours(prefix, 0, 24, combine))} end`;
  const inDays = sql`day >= ${iso(firstDay)}::timestamptz and day <= ${iso(lastDay)}::timestamptz`;
  return { share, inDays };
}

/** One part of the fleet: every figure of the vehicles whose id is in [low, high). */
export function fleetPart(sql: Queryable, window: Window, [low, high]: [string | null, string | null]) {
  const from = iso(window.from);
  const to = iso(window.to);
  const inPart = (column: string) =>
    sql`${low === null ? sql`true` : sql`${sql(column)} >= ${low}::uuid`} and ${high === null ? sql`true` : sql`${sql(column)} < ${high}::uuid`}`;
  const { share, inDays } = dayShare(sql, window);
  return sql<FleetVehicleEnergy[]>`
    with links as (
      -- A boolean column rather than a filter on the bounds: the planner cannot estimate how
      -- many links cover the whole window, and taken for one it loops over the meters.
      select *, f = ${from}::timestamptz and t = ${to}::timestamptz as whole
      from (${clippedLinks(sql, undefined, window)}) clipped
    ),
    mine as (select * from links where ${inPart("vehicle_id")}),
    spans as (${withHours(sql, sql`select * from mine where not whole`)}),
    -- Every vehicle's rows and every row of its whole-window meters, summed per vehicle in
    -- one pass; a meter counts as feeding the vehicle when it had readings in the window.
    parts as (
      select vehicle_id, ${share("dc_wh", "sum")} as dc_wh, ${share("readings", "sum")} as readings,
             ${share("temp_max", "greatest")} as temp_max, 0::int8 as ac_wh, 0 as meter_readings,
             null::uuid as meter_id
      from vehicle_daily
      where ${inDays} and ${inPart("vehicle_id")}
      union all
      select s.vehicle_id, 0, 0, null, ${share("ac_wh", "sum")}, ${share("readings", "sum")}, s.meter_id
      from mine s
      join meter_daily m on m.meter_id = s.meter_id
      where s.whole and ${inDays}
      -- Readings not yet in the rollups, read in the same snapshot.
      union all
      select vehicle_id, (kwh_delivered_dc * 1000)::int8, 1, (battery_temp * 100)::int4, 0, 0, null
      from vehicle_pending
      where recorded_at >= ${from}::timestamptz and recorded_at < ${to}::timestamptz and ${inPart("vehicle_id")}
      union all
      select s.vehicle_id, 0, 0, null, (p.kwh_consumed_ac * 1000)::int8, 1, s.meter_id
      from mine s
      join meter_pending p on p.meter_id = s.meter_id
      where s.whole and p.recorded_at >= ${from}::timestamptz and p.recorded_at < ${to}::timestamptz
      union all
      select vehicle_id, 0, 0, null, round(ac * 1000)::int8, 1, meter_id from (${meterParts(sql, window)}) partial
    ),
    energy as (
      select vehicle_id, sum(dc_wh) as dc_wh, sum(readings) as readings, max(temp_max) as temp_max, sum(ac_wh) as ac_wh,
             coalesce(array_agg(distinct meter_id) filter (where meter_readings > 0), '{}') as ac_meters
      from parts
      group by vehicle_id
      having sum(readings) > 0 or sum(meter_readings) > 0
    ),
    -- Each (vehicle, meter) pair once, and whether another vehicle had the meter at an
    -- overlapping time: hashed, where count(distinct) would sort.
    pairs as (
      select s.vehicle_id, s.meter_id, bool_or(other.meter_id is not null) as shared
      from mine s
      left join links other
        on other.meter_id = s.meter_id and other.vehicle_id <> s.vehicle_id and other.f < s.t and other.t > s.f
      group by 1, 2
    ),
    facts as (
      select vehicle_id, count(*)::int as meters, count(*) filter (where shared)::int as shared_meters
      from pairs
      group by vehicle_id
    )
    select e.vehicle_id as "vehicleId", e.ac_wh::numeric / 1000 as ac, e.dc_wh::numeric / 1000 as dc,
           e.readings::int as readings, e.temp_max::numeric / 100 as "tempMax", coalesce(f.meters, 0) as meters,
           coalesce(f.shared_meters, 0) as "sharedMeters", e.ac_meters::text[] as "acMeters",
           seen."firstSeenMs"
    from energy e
    left join facts f on f.vehicle_id = e.vehicle_id
    left join (${firstSeenQuery(sql, window)}) seen on seen."vehicleId" = e.vehicle_id
  `;
}

/**
 * Per vehicle and meter, the Wh of its links that start or end inside the window (as energyQuery
 * reads them: hourly rollups for their whole hours, raw rows for the rest).
 */
export function partialLinkEnergyQuery(sql: Queryable, window: Window) {
  const from = iso(window.from);
  const to = iso(window.to);
  return sql<{ vehicleId: string; meterId: string; acWh: number }[]>`
    with spans as (${withHours(
      sql,
      sql`select * from (${clippedLinks(sql, undefined, window)}) clipped
          where f > ${from}::timestamptz or t < ${to}::timestamptz`,
    )})
    select vehicle_id as "vehicleId", meter_id as "meterId", sum(round(ac * 1000))::float8 as "acWh"
    from (${meterParts(sql, window)}) partial
    group by 1, 2
  `;
}

/** One device's readings over a window that are still pending: Wh, count, highest temperature (hundredths). */
export interface PendingEnergy {
  deviceId: string;
  wh: number;
  readings: number;
  tempMax: number | null;
}

/** Per device, its pending readings inside the window, summed. */
export function pendingEnergyQuery(sql: Queryable, kind: "meter" | "vehicle", window: Window) {
  const [from, to] = [iso(window.from), iso(window.to)];
  return kind === "vehicle"
    ? sql<PendingEnergy[]>`
        select vehicle_id as "deviceId", sum(kwh_delivered_dc * 1000)::float8 as wh, count(*)::float8 as readings,
               max(battery_temp * 100)::float8 as "tempMax"
        from vehicle_pending
        where recorded_at >= ${from}::timestamptz and recorded_at < ${to}::timestamptz
        group by 1
      `
    : sql<PendingEnergy[]>`
        select meter_id as "deviceId", sum(kwh_consumed_ac * 1000)::float8 as wh, count(*)::float8 as readings,
               null::float8 as "tempMax"
        from meter_pending
        where recorded_at >= ${from}::timestamptz and recorded_at < ${to}::timestamptz
        group by 1
      `;
}
