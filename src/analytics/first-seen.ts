// When a vehicle was first seen: its earliest reading, from `vehicle_first_seen` (kept by
// the rollup aggregator) and the readings still pending for it, read in one snapshot, so
// the instant is exact however far the aggregator lags. Coverage counts expected readings
// from there when it falls inside a window (src/analytics/quality.ts).
import type { Queryable } from "../db/client.ts";
import { iso, type Window } from "./energy.ts";

/** Vehicles first seen after the window's start (even after its end): (vehicleId, firstSeenMs). */
export function firstSeenQuery(sql: Queryable, window: Window) {
  const from = iso(window.from);
  // A vehicle known to be seen by the window's start is left out at once; its pending
  // readings (possibly older than what the table has) decide for the others.
  return sql<{ vehicleId: string; firstSeenMs: number }[]>`
    select vehicle_id as "vehicleId", (extract(epoch from min(first_seen)) * 1000)::float8 as "firstSeenMs"
    from (
      select vehicle_id, first_seen from vehicle_first_seen where first_seen > ${from}::timestamptz
      union all
      select pending.vehicle_id, pending.first_seen
      from (select vehicle_id, min(recorded_at) as first_seen from vehicle_pending group by 1) pending
      where not exists (
        select 1 from vehicle_first_seen known
        where known.vehicle_id = pending.vehicle_id and known.first_seen <= ${from}::timestamptz
      )
    ) seen
    group by 1
    having min(first_seen) > ${from}::timestamptz
  `;
}

/** One vehicle's first reading, as epoch ms (null: never seen). */
export function vehicleFirstSeenQuery(sql: Queryable, vehicleId: string) {
  return sql`
    select (extract(epoch from least(
      (select first_seen from vehicle_first_seen where vehicle_id = ${vehicleId}),
      (select min(recorded_at) from vehicle_pending where vehicle_id = ${vehicleId})
    )) * 1000)::float8
  `;
}
