// The AC no link attributes to a vehicle: a meter's readings at instants when it was
// linked to no vehicle (a meter never linked, or before its first link, between two, after
// its last). The fleet view shows it as unpaired AC (docs/design.md, "Paired energy").
// Whole windows of such a meter come from the daily rollups (the fleet cache has them in
// memory); the gaps between a meter's links inside a window are read as the links are, by
// meterParts: hourly rollups and pending readings for whole hours, raw rows for the rest.
import type { Queryable } from "../db/client.ts";
import { clippedLinks, iso, meterParts, type Window, withHours } from "./energy.ts";
import { dayShare, type UnlinkedMeterEnergy } from "./fleet-sql.ts";

/**
 * Per meter with a link in the window that leaves part of it uncovered, the Wh of its
 * readings in the uncovered parts. The gaps are the window less the union of the meter's
 * links: a link starts a gap when it begins after every earlier link has ended.
 */
export function linkGapEnergyQuery(sql: Queryable, window: Window) {
  const from = iso(window.from);
  const to = iso(window.to);
  return sql<{ meterId: string; acWh: number }[]>`
    with clipped as (${clippedLinks(sql, undefined, window)}),
    ordered as (
      select meter_id, f, t,
             max(t) over (partition by meter_id order by f, t rows between unbounded preceding and 1 preceding) as covered_to
      from clipped
    ),
    gaps as (
      select meter_id, coalesce(covered_to, ${from}::timestamptz) as gap_from, f as gap_to
      from ordered
      where f > coalesce(covered_to, ${from}::timestamptz)
      union all
      select meter_id, max(t), ${to}::timestamptz from clipped group by meter_id having max(t) < ${to}::timestamptz
    ),
    spans as (${withHours(sql, sql`select meter_id as vehicle_id, meter_id, gap_from as f, gap_to as t from gaps`)})
    select meter_id as "meterId", sum(round(ac * 1000))::float8 as "acWh"
    from (${meterParts(sql, window)}) part
    group by 1
  `;
}

/**
 * Every meter's unlinked AC over a window of whole hours, from SQL alone: meters with no
 * link in the window whole (daily rollups and pending readings), plus the gaps of the others.
 */
export async function unlinkedMeters(sql: Queryable, window: Window): Promise<UnlinkedMeterEnergy[]> {
  const from = iso(window.from);
  const to = iso(window.to);
  const { share, inDays } = dayShare(sql, window);
  const unlinked = (alias: string) => sql`not exists (
    select 1 from vehicle_meter_mapping l
    where l.meter_id = ${sql(alias)}.meter_id and l.linked_at < ${to}::timestamptz and l.unlinked_at > ${from}::timestamptz
  )`;
  const [whole, gaps] = [
    await sql<{ meterId: string; acWh: number }[]>`
      select meter_id as "meterId", sum(ac_wh)::float8 as "acWh"
      from (
        select m.meter_id, ${share("ac_wh", "sum")} as ac_wh, ${share("readings", "sum")} as readings
        from meter_daily m
        where ${inDays} and ${unlinked("m")}
        union all
        select p.meter_id, (p.kwh_consumed_ac * 1000)::int8, 1
        from meter_pending p
        where p.recorded_at >= ${from}::timestamptz and p.recorded_at < ${to}::timestamptz and ${unlinked("p")}
      ) parts
      group by 1
      having sum(readings) > 0
    `,
    await linkGapEnergyQuery(sql, window),
  ];
  return [...whole, ...gaps].map((row) => ({ meterId: row.meterId, ac: row.acWh / 1000 }));
}
