// How energy over a window is added up, for one vehicle or the fleet, in one bucket or by
// hour or day. Whole UTC hours come from the hourly rollups plus the readings still
// pending for them (not yet added by the aggregator, src/rollups/aggregator.ts; both are
// read in one snapshot, where a reading is in exactly one of them), and raw readings are
// read only for the partial hours at the edges, so the sums are exactly those of the raw
// rows, for a fraction of the reading. AC follows the links: a meter's
// energy counts toward a vehicle only inside [linked_at, unlinked_at), and a link that
// starts or ends inside an hour has that hour read from raw rows.
import type { PendingQuery, Row } from "postgres";
import type { Queryable } from "../db/client.ts";
import { HOUR_MS } from "../time.ts";

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

const ceilHour = (date: Date) => new Date(Math.ceil(date.getTime() / HOUR_MS) * HOUR_MS);
const floorHour = (date: Date) => new Date(Math.floor(date.getTime() / HOUR_MS) * HOUR_MS);
export const iso = (date: Date) => date.toISOString();

// The whole window is bucket 0: a real value, so both sides can be joined on it.
const bucketOf = (sql: Queryable, bucket: Bucket, column: string) =>
  bucket === "window"
    ? sql`0::float8`
    : sql`(extract(epoch from date_trunc(${bucket}, ${sql(column)}, 'UTC')) * 1000)::float8`;

/** Readings of the vehicle(s), as rows of (vehicle_id, at, dc, readings, temp_sum, temp_max, soc_min, soc_max). */
function vehicleParts(sql: Queryable, vehicleId: string | undefined, window: Window): PendingQuery<Row[]> {
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
    sql`
      select p.vehicle_id, p.recorded_at as at, p.kwh_delivered_dc as dc, 1 as readings, p.battery_temp as temp_sum,
             p.battery_temp as temp_max, p.soc as soc_min, p.soc as soc_max
      from vehicle_pending p
      where ${which("p")} and p.recorded_at >= ${iso(wholeFrom)}::timestamptz and p.recorded_at < ${iso(wholeTo)}::timestamptz
    `,
  ];
  // Edge branches only where the window really has a partial hour: for the fleet an empty
  // raw branch would still be a scan of every device's readings.
  if (window.from < wholeFrom) parts.push(raw(window.from, wholeFrom));
  if (wholeTo < window.to) parts.push(raw(wholeTo, window.to));
  return parts.reduce((all, part) => sql`${all} union all ${part}`);
}

/** The links of the vehicle(s) clipped to the window: (vehicle_id, meter_id, f, t). */
export function clippedLinks(sql: Queryable, vehicleId: string | undefined, window: Window) {
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
export function withHours(sql: Queryable, links: PendingQuery<Row[]>) {
  return sql`
    select vehicle_id, meter_id, f, t,
           date_trunc('hour', f, 'UTC') + case when date_trunc('hour', f, 'UTC') = f then interval '0' else interval '1 hour' end as hs,
           date_trunc('hour', t, 'UTC') as he
    from (${links}) links
  `;
}

/** The links of the vehicle(s) clipped to the window: (vehicle_id, meter_id, f, t, hs, he). */
const spans = (sql: Queryable, vehicleId: string | undefined, window: Window) =>
  withHours(sql, clippedLinks(sql, vehicleId, window));

/** Meter energy attributed to the vehicle(s): (vehicle_id, meter_id, at, ac), a row only where there were readings. */
export function meterParts(sql: Queryable, window: Window, spansCte = "spans") {
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
    select s.vehicle_id, s.meter_id, part.at, part.ac
    from ${sql(spansCte)} s cross join lateral (
      select h.hour as at, h.kwh_consumed_ac as ac
      from meter_hourly h
      where h.meter_id = s.meter_id and h.hour >= s.hs and h.hour < s.he
        and h.hour >= ${hoursFrom}::timestamptz and h.hour < ${to}::timestamptz
      union all
      select p.recorded_at, p.kwh_consumed_ac
      from meter_pending p
      where p.meter_id = s.meter_id and p.recorded_at >= s.hs and p.recorded_at < s.he
        and p.recorded_at >= ${hoursFrom}::timestamptz and p.recorded_at < ${to}::timestamptz
    ) part
    where s.hs < s.he
    union all
    select s.vehicle_id, s.meter_id, part.at, part.ac
    from ${sql(spansCte)} s cross join lateral (${raw(sql`s.f`, sql`least(s.hs, s.t)`)}) part
    where s.f < s.hs
    union all
    select s.vehicle_id, s.meter_id, part.at, part.ac
    from ${sql(spansCte)} s cross join lateral (${raw(sql`greatest(s.he, s.hs)`, sql`s.t`)}) part
    where s.he < s.t
  `;
}

/** Energy, readings, temperature and SoC per vehicle (and bucket) over the window. */
export function energyQuery(sql: Queryable, options: { vehicleId?: string; window: Window; bucket: Bucket }) {
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
export function linkFactsQuery(sql: Queryable, options: { vehicleId?: string; window: Window }) {
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
