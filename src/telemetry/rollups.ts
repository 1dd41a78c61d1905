// The rollups every stored reading is added to, as CTEs that read a `stored` CTE (the rows
// really inserted into the cold store, so replays add nothing). They run in the statement
// that stores the readings, so they are never stale. The service (src/telemetry/store.ts)
// and the benchmark's store generator (bench/fleet-store.ts) both use these very texts.
//
// - Hourly (`*_hourly`): one row per device and UTC hour, for hours and series.
// - Daily (`*_daily`): one row per device and UTC day whose arrays answer any run of whole
//   hours that starts or ends at midnight with two array reads, so a fleet window of 24 hours
//   is two rows per device, not 24. Element i + 1 (SQL arrays start at 1) of a `*_before`
//   array sums or maxes the day's hours before hour i (i = 0..24); element i + 1 of
//   `temp_max_from` is the maximum over hours i..23. Hours [lo, hi) of a day then give
//   before[hi + 1] - before[lo + 1] for sums, and the maximum when lo = 0 or hi = 24.
//   Energy is in Wh and temperatures in hundredths of a degree: the readings' own scales
//   (3 and 2 decimals), so the integers are exact. `changed_xid` names the transaction that
//   last wrote the row, for the fleet cache (src/analytics/fleet-cache.ts).

const hourOfDay = "extract(hour from hour at time zone 'UTC')::int";

/** Adds each element of the stored array to the one of the new (`excluded`) array. */
const elementwise = (table: string, column: string, combine: (a: string, b: string) => string) =>
  `${column} = (select array_agg(${combine("a", "b")} order by n)
     from unnest(${table}.${column}, excluded.${column}) with ordinality as u(a, b, n))`;
const plus = (a: string, b: string) => `${a} + ${b}`;
const greatest = (a: string, b: string) => `greatest(${a}, ${b})`;

export const METER_ROLLUPS = `
  meter_hours as (
    select meter_id, date_trunc('hour', recorded_at, 'UTC') as hour, sum(kwh_consumed_ac) as kwh_consumed_ac,
           count(*)::int as readings
    from stored
    group by 1, 2
  ),
  meter_hourly_rollup as (
    insert into meter_hourly (meter_id, hour, kwh_consumed_ac, readings)
    select meter_id, hour, kwh_consumed_ac, readings from meter_hours
    order by 1, 2
    on conflict (meter_id, hour) do update set
      kwh_consumed_ac = meter_hourly.kwh_consumed_ac + excluded.kwh_consumed_ac,
      readings = meter_hourly.readings + excluded.readings
  ),
  meter_daily_rollup as (
    insert into meter_daily (meter_id, day, ac_wh_before, readings_before)
    select meter_id, day, array_agg(ac_wh order by i), array_agg(readings order by i)
    from (
      select h.meter_id, date_trunc('day', h.hour, 'UTC') as day, i,
             coalesce(sum((h.kwh_consumed_ac * 1000)::int8) filter (where h.hour_of_day < i), 0)::int8 as ac_wh,
             coalesce(sum(h.readings) filter (where h.hour_of_day < i), 0)::int4 as readings
      from (select *, ${hourOfDay} as hour_of_day from meter_hours) h
      cross join generate_series(0, 24) as i
      group by 1, 2, 3
    ) before
    group by 1, 2
    order by 1, 2
    on conflict (meter_id, day) do update set
      ${elementwise("meter_daily", "ac_wh_before", plus)},
      ${elementwise("meter_daily", "readings_before", plus)},
      changed_xid = pg_current_xact_id()
  )`;

export const VEHICLE_ROLLUPS = `
  vehicle_hours as (
    select vehicle_id, date_trunc('hour', recorded_at, 'UTC') as hour, sum(kwh_delivered_dc) as kwh_delivered_dc,
           count(*)::int as readings, sum(battery_temp) as battery_temp_sum, min(battery_temp) as battery_temp_min,
           max(battery_temp) as battery_temp_max, min(soc) as soc_min, max(soc) as soc_max
    from stored
    group by 1, 2
  ),
  vehicle_hourly_rollup as (
    insert into vehicle_hourly (vehicle_id, hour, kwh_delivered_dc, readings, battery_temp_sum,
                                battery_temp_min, battery_temp_max, soc_min, soc_max)
    select vehicle_id, hour, kwh_delivered_dc, readings, battery_temp_sum, battery_temp_min, battery_temp_max,
           soc_min, soc_max
    from vehicle_hours
    order by 1, 2
    on conflict (vehicle_id, hour) do update set
      kwh_delivered_dc = vehicle_hourly.kwh_delivered_dc + excluded.kwh_delivered_dc,
      readings = vehicle_hourly.readings + excluded.readings,
      battery_temp_sum = vehicle_hourly.battery_temp_sum + excluded.battery_temp_sum,
      battery_temp_min = least(vehicle_hourly.battery_temp_min, excluded.battery_temp_min),
      battery_temp_max = greatest(vehicle_hourly.battery_temp_max, excluded.battery_temp_max),
      soc_min = least(vehicle_hourly.soc_min, excluded.soc_min),
      soc_max = greatest(vehicle_hourly.soc_max, excluded.soc_max)
  ),
  vehicle_daily_rollup as (
    insert into vehicle_daily (vehicle_id, day, dc_wh_before, readings_before, temp_max_before, temp_max_from)
    select vehicle_id, day, array_agg(dc_wh order by i), array_agg(readings order by i),
           array_agg(max_before order by i), array_agg(max_from order by i)
    from (
      select h.vehicle_id, date_trunc('day', h.hour, 'UTC') as day, i,
             coalesce(sum((h.kwh_delivered_dc * 1000)::int8) filter (where h.hour_of_day < i), 0)::int8 as dc_wh,
             coalesce(sum(h.readings) filter (where h.hour_of_day < i), 0)::int4 as readings,
             (max(h.battery_temp_max) filter (where h.hour_of_day < i) * 100)::int4 as max_before,
             (max(h.battery_temp_max) filter (where h.hour_of_day >= i) * 100)::int4 as max_from
      from (select *, ${hourOfDay} as hour_of_day from vehicle_hours) h
      cross join generate_series(0, 24) as i
      group by 1, 2, 3
    ) before
    group by 1, 2
    order by 1, 2
    on conflict (vehicle_id, day) do update set
      ${elementwise("vehicle_daily", "dc_wh_before", plus)},
      ${elementwise("vehicle_daily", "readings_before", plus)},
      ${elementwise("vehicle_daily", "temp_max_before", greatest)},
      ${elementwise("vehicle_daily", "temp_max_from", greatest)},
      changed_xid = pg_current_xact_id()
  )`;
