// The fleet's figures computed the plain way, straight from the raw rows and the links, for
// the property tests to hold the rollups, the fleet cache and the SQL path to: per vehicle,
// and the paired and unpaired totals as docs/design.md ("Paired energy") states them.

import type { FleetEnergy } from "../../src/analytics/fleet-sql.ts";
import type { Sql } from "../../src/db/client.ts";

export interface RawVehicle {
  ac: number;
  dc: number;
  readings: number;
  tempMax: number | null;
  acMeters: string[];
  firstSeenMs: number | null;
}

/** Every vehicle's figures over [from, to); first seen only when after `from`. */
export async function rawFleet(sql: Sql, from: string, to: string): Promise<Record<string, RawVehicle>> {
  const rows = await sql<(Omit<RawVehicle, "ac" | "dc"> & { vehicleId: string; ac: string; dc: string })[]>`
    with dc as (
      select vehicle_id, sum(kwh_delivered_dc) as dc, count(*)::int as readings, max(battery_temp) as temp_max
      from vehicle_telemetry
      where recorded_at >= ${from}::timestamptz and recorded_at < ${to}::timestamptz
      group by 1
    ),
    ac as (
      select m.vehicle_id, sum(r.kwh_consumed_ac) as ac, array_agg(distinct r.meter_id order by r.meter_id)::text[] as meters
      from vehicle_meter_mapping m
      join meter_telemetry r on r.meter_id = m.meter_id
       and r.recorded_at >= greatest(m.linked_at, ${from}::timestamptz)
       and r.recorded_at < least(m.unlinked_at, ${to}::timestamptz)
      group by 1
    ),
    seen as (select vehicle_id, min(recorded_at) as first from vehicle_telemetry group by 1)
    select v.vehicle_id as "vehicleId", coalesce(ac.ac, 0) as ac, coalesce(dc.dc, 0) as dc,
           coalesce(dc.readings, 0) as readings, dc.temp_max as "tempMax", coalesce(ac.meters, '{}') as "acMeters",
           case when seen.first > ${from}::timestamptz then (extract(epoch from seen.first) * 1000)::float8 end as "firstSeenMs"
    from (select vehicle_id from dc union select vehicle_id from ac) v
    left join dc using (vehicle_id)
    left join ac using (vehicle_id)
    left join seen using (vehicle_id)
  `;
  return Object.fromEntries(
    rows.map(({ vehicleId, ...row }) => [vehicleId, { ...row, ac: Number(row.ac), dc: Number(row.dc) }]),
  );
}

/** What the fleet answer's totals and unpaired figures must be over [from, to). */
export async function rawTotals(sql: Sql, from: string, to: string) {
  const [row] = await sql`
    with dc as (
      select vehicle_id, sum(kwh_delivered_dc) as dc
      from vehicle_telemetry
      where recorded_at >= ${from}::timestamptz and recorded_at < ${to}::timestamptz
      group by 1
    ),
    attributed as (
      select m.vehicle_id, r.meter_id, r.kwh_consumed_ac as ac
      from vehicle_meter_mapping m
      join meter_telemetry r on r.meter_id = m.meter_id
       and r.recorded_at >= greatest(m.linked_at, ${from}::timestamptz)
       and r.recorded_at < least(m.unlinked_at, ${to}::timestamptz)
    ),
    unlinked as (
      select r.meter_id, r.kwh_consumed_ac as ac
      from meter_telemetry r
      where r.recorded_at >= ${from}::timestamptz and r.recorded_at < ${to}::timestamptz
        and not exists (
          select 1 from vehicle_meter_mapping m
          where m.meter_id = r.meter_id and r.recorded_at >= m.linked_at and r.recorded_at < m.unlinked_at
        )
    ),
    paired as (select vehicle_id from dc where vehicle_id in (select vehicle_id from attributed)),
    silent as (select distinct vehicle_id from attributed where vehicle_id not in (select vehicle_id from dc))
    select
      (select coalesce(sum(ac), 0) from attributed where vehicle_id in (select vehicle_id from paired)) as ac,
      (select coalesce(sum(dc), 0) from dc where vehicle_id in (select vehicle_id from paired)) as dc,
      (select coalesce(sum(dc), 0) from dc where vehicle_id not in (select vehicle_id from paired)) as unpaired_dc,
      (select count(*) from dc where vehicle_id not in (select vehicle_id from paired))::int as unpaired_vehicles,
      (select coalesce(sum(ac), 0) from attributed where vehicle_id in (select vehicle_id from silent))
        + (select coalesce(sum(ac), 0) from unlinked) as unpaired_ac,
      (select count(distinct meter_id) from (
        select meter_id from attributed where vehicle_id in (select vehicle_id from silent)
        union select meter_id from unlinked
      ) meters)::int as unpaired_meters
  `;
  const [ac, dc] = [Number(row?.ac), Number(row?.dc)];
  return {
    totalAcConsumption: ac,
    totalDcDelivery: dc,
    efficiencyRatio: ac === 0 ? null : Math.round((dc / ac) * 10_000) / 10_000,
    unpaired: {
      dcKwh: Number(row?.unpaired_dc),
      vehicles: row?.unpaired_vehicles as number,
      acKwh: Number(row?.unpaired_ac),
      meters: row?.unpaired_meters as number,
    },
  };
}

/** Unlinked AC per meter over [from, to): readings at instants the meter had no link. */
export async function rawUnlinked(sql: Sql, from: string, to: string): Promise<Record<string, number>> {
  const rows = await sql<{ meterId: string; ac: string }[]>`
    select r.meter_id as "meterId", sum(r.kwh_consumed_ac) as ac
    from meter_telemetry r
    where r.recorded_at >= ${from}::timestamptz and r.recorded_at < ${to}::timestamptz
      and not exists (
        select 1 from vehicle_meter_mapping m
        where m.meter_id = r.meter_id and r.recorded_at >= m.linked_at and r.recorded_at < m.unlinked_at
      )
    group by 1
  `;
  return Object.fromEntries(rows.map((row) => [row.meterId, Number(row.ac)]));
}

/** A fleet answer in the raw functions' shapes: by vehicle and by meter, in no particular order. */
export function normalized(fleet: FleetEnergy) {
  const vehicles: Record<string, RawVehicle> = {};
  for (const { vehicleId, ac, dc, readings, tempMax, acMeters, firstSeenMs } of fleet.vehicles) {
    vehicles[vehicleId] = {
      ac: Number(ac),
      dc: Number(dc),
      readings,
      tempMax,
      acMeters: [...acMeters].sort(),
      firstSeenMs,
    };
  }
  const unlinked: Record<string, number> = {};
  for (const { meterId, ac } of fleet.unlinkedMeters)
    unlinked[meterId] = Math.round(((unlinked[meterId] ?? 0) + ac) * 1000) / 1000;
  return { vehicles, unlinked };
}
