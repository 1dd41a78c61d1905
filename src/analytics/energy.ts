// The one place that knows how to add up energy over a window, for one vehicle or the
// fleet, in one bucket or by hour or day. Whole UTC hours come from the hourly rollups and
// raw readings are read only for the partial hours at the edges, so the sums are exactly
// those of the raw rows, for a fraction of the reading. AC follows the links: a meter's
// energy counts toward a vehicle only inside [linked_at, unlinked_at), and a link that
// starts or ends inside an hour has that hour read from raw rows.
import type { PendingQuery, Row } from "postgres";
import type { Sql } from "../db/client.ts";
import { HOURS_OF_DAY } from "../telemetry/rollups.ts";

export interface Window {
  from: Date;
  to: Date;
}

export type Bucket = "window" | "hour" | "day";

export interface EnergyRow {
  vehicleId: string;
  /** Start of the bucket (epoch ms); 0 for the whole window. */
  bucketMs: number;
  ac: number;
  dc: number;
  readings: number;
  tempSum: number | null;
  tempMax: number | null;
  socMin: number | null;
  socMax: number | null;
}

export interface LinkFacts {
  vehicleId: string;
  /** Meters linked to the vehicle at some point in the window. */
  meters: number;
  /** Of those, meters linked to another vehicle at an overlapping time. */
  sharedMeters: number;
}

const HOUR_MS = 60 * 60 * 1000;
const ceilHour = (date: Date) => new Date(Math.ceil(date.getTime() / HOUR_MS) * HOUR_MS);
const floorHour = (date: Date) => new Date(Math.floor(date.getTime() / HOUR_MS) * HOUR_MS);
const iso = (date: Date) => date.toISOString();

// The whole window is bucket 0: a real value, so both sides can be joined on it.
const bucketOf = (sql: Sql, bucket: Bucket, column: string) =>
  bucket === "window"
    ? sql`0::float8`
    : sql`(extract(epoch from date_trunc(${bucket}, ${sql(column)}, 'UTC')) * 1000)::float8`;

/** Readings of the vehicle(s), as rows of (vehicle_id, at, dc, readings, temp_sum, temp_max, soc_min, soc_max). */
function vehicleParts(sql: Sql, vehicleId: string | undefined, window: Window): PendingQuery<Row[]> {
  const wholeFrom = ceilHour(window.from);
  const wholeTo = floorHour(window.to);
  const hasWholeHours = wholeFrom < wholeTo;
  const which = (alias: string) => (vehicleId ? sql`${sql(alias)}.vehicle_id = ${vehicleId}` : sql`true`);
  const raw = (from: Date, to: Date) => sql`
    select r.vehicle_id, r.recorded_at as at, r.kwh_delivered_dc as dc, 1 as readings, r.battery_temp as temp_sum,
           r.battery_temp as temp_max, r.soc as soc_min, r.soc as soc_max
    from vehicle_telemetry r
    where ${which("r")} and r.recorded_at >= ${iso(from)}::timestamptz and r.recorded_at < ${iso(to)}::timestamptz
  `;
  if (!hasWholeHours) return raw(window.from, window.to);
  const parts = [
    sql`
      select h.vehicle_id, h.hour as at, h.kwh_delivered_dc as dc, h.readings, h.battery_temp_sum as temp_sum,
             h.battery_temp_max as temp_max, h.soc_min, h.soc_max
      from vehicle_hourly h
      where ${which("h")} and h.hour >= ${iso(wholeFrom)}::timestamptz and h.hour < ${iso(wholeTo)}::timestamptz
    `,
  ];
  // Edge branches only where the window really has a partial hour: for the fleet an empty
  // raw branch would still be a scan of every device's readings.
  if (window.from < wholeFrom) parts.push(raw(window.from, wholeFrom));
  if (wholeTo < window.to) parts.push(raw(wholeTo, window.to));
  return parts.reduce((all, part) => sql`${all} union all ${part}`);
}

/** The links of the vehicle(s) clipped to the window: (vehicle_id, meter_id, f, t). */
function clippedLinks(sql: Sql, vehicleId: string | undefined, window: Window) {
  return sql`
    select vehicle_id, meter_id, f, t
    from (
      select vehicle_id, meter_id,
             greatest(linked_at, ${iso(window.from)}::timestamptz) as f,
             least(unlinked_at, ${iso(window.to)}::timestamptz) as t
      from vehicle_meter_mapping
      where ${vehicleId ? sql`vehicle_id = ${vehicleId}` : sql`true`}
        and linked_at < ${iso(window.to)}::timestamptz and unlinked_at > ${iso(window.from)}::timestamptz
    ) clipped
    where f < t
  `;
}

/** Clipped links with the whole hours they cover, [hs, he): (vehicle_id, meter_id, f, t, hs, he). */
function withHours(sql: Sql, links: PendingQuery<Row[]>) {
  return sql`
    select vehicle_id, meter_id, f, t,
           date_trunc('hour', f, 'UTC') + case when date_trunc('hour', f, 'UTC') = f then interval '0' else interval '1 hour' end as hs,
           date_trunc('hour', t, 'UTC') as he
    from (${links}) links
  `;
}

/** The links of the vehicle(s) clipped to the window: (vehicle_id, meter_id, f, t, hs, he). */
const spans = (sql: Sql, vehicleId: string | undefined, window: Window) =>
  withHours(sql, clippedLinks(sql, vehicleId, window));

/** Meter energy attributed to the vehicle(s): (vehicle_id, at, ac). */
function meterParts(sql: Sql, window: Window, spansCte = "spans") {
  // Each span is read on its own (LATERAL), through the (meter_id, time) indexes: a span's
  // bounds are known only row by row, and a join left to choose its own plan would scan
  // every meter's readings in the window to find the few partial hours at span edges.
  // The window's bounds, repeated as constants, let the planner drop whole partitions.
  const from = iso(window.from);
  const to = iso(window.to);
  const hoursFrom = iso(floorHour(window.from));
  const raw = (lower: PendingQuery<Row[]>, upper: PendingQuery<Row[]>) => sql`
    select r.recorded_at as at, r.kwh_consumed_ac as ac
    from meter_telemetry r
    where r.meter_id = s.meter_id and r.recorded_at >= ${lower} and r.recorded_at < ${upper}
      and r.recorded_at >= ${from}::timestamptz and r.recorded_at < ${to}::timestamptz
  `;
  return sql`
    select s.vehicle_id, part.at, part.ac
    from ${sql(spansCte)} s cross join lateral (
      select h.hour as at, h.kwh_consumed_ac as ac
      from meter_hourly h
      where h.meter_id = s.meter_id and h.hour >= s.hs and h.hour < s.he
        and h.hour >= ${hoursFrom}::timestamptz and h.hour < ${to}::timestamptz
    ) part
    where s.hs < s.he
    union all
    select s.vehicle_id, part.at, part.ac
    from ${sql(spansCte)} s cross join lateral (${raw(sql`s.f`, sql`least(s.hs, s.t)`)}) part
    where s.f < s.hs
    union all
    select s.vehicle_id, part.at, part.ac
    from ${sql(spansCte)} s cross join lateral (${raw(sql`greatest(s.he, s.hs)`, sql`s.t`)}) part
    where s.he < s.t
  `;
}

/** Energy, readings, temperature and SoC per vehicle (and bucket) over the window. */
export function energyQuery(sql: Sql, options: { vehicleId?: string; window: Window; bucket: Bucket }) {
  const { vehicleId, window, bucket } = options;
  // Each side is summed per vehicle and bucket on its own and the two small results are
  // then joined: for the fleet that halves the rows grouped, against one union of both.
  return sql<EnergyRow[]>`
    with spans as (${spans(sql, vehicleId, window)}),
    vehicle_side as (
      select vehicle_id, ${bucketOf(sql, bucket, "at")} as bucket, sum(dc) as dc, sum(readings) as readings,
             sum(temp_sum) as temp_sum, max(temp_max) as temp_max, min(soc_min) as soc_min, max(soc_max) as soc_max
      from (${vehicleParts(sql, vehicleId, window)}) parts
      group by 1, 2
    ),
    meter_side as (
      select vehicle_id, ${bucketOf(sql, bucket, "at")} as bucket, sum(ac) as ac
      from (${meterParts(sql, window)}) parts
      group by 1, 2
    )
    select coalesce(v.vehicle_id, m.vehicle_id) as "vehicleId", coalesce(v.bucket, m.bucket) as "bucketMs",
           coalesce(m.ac, 0) as ac, coalesce(v.dc, 0) as dc, coalesce(v.readings, 0)::int as readings,
           v.temp_sum as "tempSum", v.temp_max as "tempMax", v.soc_min as "socMin", v.soc_max as "socMax"
    from vehicle_side v
    full join meter_side m on m.vehicle_id = v.vehicle_id and m.bucket = v.bucket
  `;
}

/** How many meters feed each vehicle in the window, and how many of them feed others too. */
export function linkFactsQuery(sql: Sql, options: { vehicleId?: string; window: Window }) {
  return sql<LinkFacts[]>`
    with spans as (${spans(sql, options.vehicleId, options.window)})
    select s.vehicle_id as "vehicleId", count(distinct s.meter_id)::int as meters,
           count(distinct s.meter_id) filter (where exists (
             select 1 from vehicle_meter_mapping other
             where other.meter_id = s.meter_id and other.vehicle_id <> s.vehicle_id
               and other.linked_at < s.t and other.unlinked_at > s.f
           ))::int as "sharedMeters"
    from spans s
    group by 1
  `;
}

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
}

const DAY_MS = 24 * HOUR_MS;

/**
 * The days a window of whole hours touches, as rows of the daily rollups: hours [lo, hi)
 * of the first and last day, all hours of those between. Undefined for a window that
 * does not start and end on whole hours.
 */
export function dailyPieces(window: Window) {
  const from = window.from.getTime();
  const to = window.to.getTime();
  if (from % HOUR_MS !== 0 || to % HOUR_MS !== 0 || from >= to) return undefined;
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

/** One part of the fleet: every figure of the vehicles whose id is in [low, high). */
export function fleetPart(sql: Sql, window: Window, [low, high]: [string | null, string | null]) {
  const { firstDay, lastDay, lo, hi } = dailyPieces(window) as NonNullable<ReturnType<typeof dailyPieces>>;
  const from = iso(window.from);
  const to = iso(window.to);
  const inPart = (column: string) =>
    sql`${low === null ? sql`true` : sql`${sql(column)} >= ${low}::uuid`} and ${high === null ? sql`true` : sql`${sql(column)} < ${high}::uuid`}`;
  // A day's share of the window: its hour columns [lo, hi), added up or their greatest.
  const hours = (prefix: string, first: number, last: number, combine: "sum" | "greatest") => {
    const columns = HOURS_OF_DAY.slice(first, last).map((hour) => `${prefix}_${hour}`);
    return combine === "sum" ? columns.join(" + ") : `greatest(${columns.join(", ")})`;
  };
  const share = (prefix: string, combine: "sum" | "greatest") =>
    sql`case when day = ${iso(firstDay)}::timestamptz then ${sql.unsafe(hours(prefix, lo, firstDay.getTime() === lastDay.getTime() ? hi : 24, combine))}
             when day = ${iso(lastDay)}::timestamptz then ${sql.unsafe(hours(prefix, 0, hi, combine))}
             else ${sql.unsafe(hours(prefix, 0, 24, combine))} end`;
  const inDays = sql`day >= ${iso(firstDay)}::timestamptz and day <= ${iso(lastDay)}::timestamptz`;
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
             ${share("temp_max", "greatest")} as temp_max, 0::int8 as ac_wh, 0 as meter_readings
      from vehicle_daily
      where ${inDays} and ${inPart("vehicle_id")}
      union all
      select s.vehicle_id, 0, 0, null, ${share("ac_wh", "sum")}, ${share("readings", "sum")}
      from mine s
      join meter_daily m on m.meter_id = s.meter_id
      where s.whole and ${inDays}
      union all
      select vehicle_id, 0, 0, null, round(ac * 1000)::int8, 1 from (${meterParts(sql, window)}) partial
    ),
    energy as (
      select vehicle_id, sum(dc_wh) as dc_wh, sum(readings) as readings, max(temp_max) as temp_max, sum(ac_wh) as ac_wh
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
           coalesce(f.shared_meters, 0) as "sharedMeters"
    from energy e
    left join facts f on f.vehicle_id = e.vehicle_id
  `;
}

/**
 * Per vehicle, the Wh of its links that start or end inside the window (as energyQuery
 * reads them: hourly rollups for their whole hours, raw rows for the rest).
 */
export function partialLinkEnergyQuery(sql: Sql, window: Window) {
  const from = iso(window.from);
  const to = iso(window.to);
  return sql<{ vehicleId: string; acWh: number }[]>`
    with spans as (${withHours(
      sql,
      sql`select * from (${clippedLinks(sql, undefined, window)}) clipped
          where f > ${from}::timestamptz or t < ${to}::timestamptz`,
    )})
    select vehicle_id as "vehicleId", sum(round(ac * 1000))::float8 as "acWh"
    from (${meterParts(sql, window)}) partial
    group by vehicle_id
  `;
}
