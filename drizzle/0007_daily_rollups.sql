-- Daily rollups per device, beside the hourly ones and maintained in the same statement
-- (src/telemetry/rollups.ts): one row per device and UTC day, with each hour's sums in a
-- column of its own (energy in Wh and temperatures in hundredths of a degree, the
-- readings' own scales, so the integers are exact). Adding a reading is plain additions
-- to its hour's columns, and the fleet view over 24 hours reads two rows per device
-- instead of 24. Partitioned by month like the rest, so retention drops them with their
-- raw month.
create table meter_daily (
  meter_id uuid not null,
  day timestamptz not null,
  ac_wh_00 int8 not null default 0,
  ac_wh_01 int8 not null default 0,
  ac_wh_02 int8 not null default 0,
  ac_wh_03 int8 not null default 0,
  ac_wh_04 int8 not null default 0,
  ac_wh_05 int8 not null default 0,
  ac_wh_06 int8 not null default 0,
  ac_wh_07 int8 not null default 0,
  ac_wh_08 int8 not null default 0,
  ac_wh_09 int8 not null default 0,
  ac_wh_10 int8 not null default 0,
  ac_wh_11 int8 not null default 0,
  ac_wh_12 int8 not null default 0,
  ac_wh_13 int8 not null default 0,
  ac_wh_14 int8 not null default 0,
  ac_wh_15 int8 not null default 0,
  ac_wh_16 int8 not null default 0,
  ac_wh_17 int8 not null default 0,
  ac_wh_18 int8 not null default 0,
  ac_wh_19 int8 not null default 0,
  ac_wh_20 int8 not null default 0,
  ac_wh_21 int8 not null default 0,
  ac_wh_22 int8 not null default 0,
  ac_wh_23 int8 not null default 0,
  readings_00 int4 not null default 0,
  readings_01 int4 not null default 0,
  readings_02 int4 not null default 0,
  readings_03 int4 not null default 0,
  readings_04 int4 not null default 0,
  readings_05 int4 not null default 0,
  readings_06 int4 not null default 0,
  readings_07 int4 not null default 0,
  readings_08 int4 not null default 0,
  readings_09 int4 not null default 0,
  readings_10 int4 not null default 0,
  readings_11 int4 not null default 0,
  readings_12 int4 not null default 0,
  readings_13 int4 not null default 0,
  readings_14 int4 not null default 0,
  readings_15 int4 not null default 0,
  readings_16 int4 not null default 0,
  readings_17 int4 not null default 0,
  readings_18 int4 not null default 0,
  readings_19 int4 not null default 0,
  readings_20 int4 not null default 0,
  readings_21 int4 not null default 0,
  readings_22 int4 not null default 0,
  readings_23 int4 not null default 0,
  -- The transaction that last wrote the row: what the fleet cache reads again (src/analytics/fleet-cache.ts).
  changed_xid xid8 not null default pg_current_xact_id(),
  -- Day first: the fleet view reads whole days, in ranges of device id, and a reading's
  -- upsert finds its row by both; one index where two would cost every new row twice.
  primary key (day, meter_id)
) partition by range (day);
--> statement-breakpoint
create table vehicle_daily (
  vehicle_id uuid not null,
  day timestamptz not null,
  dc_wh_00 int8 not null default 0,
  dc_wh_01 int8 not null default 0,
  dc_wh_02 int8 not null default 0,
  dc_wh_03 int8 not null default 0,
  dc_wh_04 int8 not null default 0,
  dc_wh_05 int8 not null default 0,
  dc_wh_06 int8 not null default 0,
  dc_wh_07 int8 not null default 0,
  dc_wh_08 int8 not null default 0,
  dc_wh_09 int8 not null default 0,
  dc_wh_10 int8 not null default 0,
  dc_wh_11 int8 not null default 0,
  dc_wh_12 int8 not null default 0,
  dc_wh_13 int8 not null default 0,
  dc_wh_14 int8 not null default 0,
  dc_wh_15 int8 not null default 0,
  dc_wh_16 int8 not null default 0,
  dc_wh_17 int8 not null default 0,
  dc_wh_18 int8 not null default 0,
  dc_wh_19 int8 not null default 0,
  dc_wh_20 int8 not null default 0,
  dc_wh_21 int8 not null default 0,
  dc_wh_22 int8 not null default 0,
  dc_wh_23 int8 not null default 0,
  readings_00 int4 not null default 0,
  readings_01 int4 not null default 0,
  readings_02 int4 not null default 0,
  readings_03 int4 not null default 0,
  readings_04 int4 not null default 0,
  readings_05 int4 not null default 0,
  readings_06 int4 not null default 0,
  readings_07 int4 not null default 0,
  readings_08 int4 not null default 0,
  readings_09 int4 not null default 0,
  readings_10 int4 not null default 0,
  readings_11 int4 not null default 0,
  readings_12 int4 not null default 0,
  readings_13 int4 not null default 0,
  readings_14 int4 not null default 0,
  readings_15 int4 not null default 0,
  readings_16 int4 not null default 0,
  readings_17 int4 not null default 0,
  readings_18 int4 not null default 0,
  readings_19 int4 not null default 0,
  readings_20 int4 not null default 0,
  readings_21 int4 not null default 0,
  readings_22 int4 not null default 0,
  readings_23 int4 not null default 0,
  temp_max_00 int4,
  temp_max_01 int4,
  temp_max_02 int4,
  temp_max_03 int4,
  temp_max_04 int4,
  temp_max_05 int4,
  temp_max_06 int4,
  temp_max_07 int4,
  temp_max_08 int4,
  temp_max_09 int4,
  temp_max_10 int4,
  temp_max_11 int4,
  temp_max_12 int4,
  temp_max_13 int4,
  temp_max_14 int4,
  temp_max_15 int4,
  temp_max_16 int4,
  temp_max_17 int4,
  temp_max_18 int4,
  temp_max_19 int4,
  temp_max_20 int4,
  temp_max_21 int4,
  temp_max_22 int4,
  temp_max_23 int4,
  changed_xid xid8 not null default pg_current_xact_id(),
  primary key (day, vehicle_id)
) partition by range (day);
--> statement-breakpoint
create or replace function create_telemetry_partition(parent text, month_start date)
returns text
language plpgsql
as $$
declare
  first_day date := date_trunc('month', month_start)::date;
  partition_name text := format('%s_y%sm%s', parent, to_char(first_day, 'YYYY'), to_char(first_day, 'MM'));
  storage text := case when parent like '%\_hourly' or parent like '%\_daily' then ' with (fillfactor = 70)' else '' end;
begin
  if parent not in ('meter_telemetry', 'vehicle_telemetry', 'meter_hourly', 'vehicle_hourly', 'meter_daily',
                    'vehicle_daily') then
    raise exception 'not a telemetry table: %', parent;
  end if;
  perform pg_advisory_xact_lock(hashtext(partition_name));
  if to_regclass(partition_name) is null then
    execute format(
      'create table %I partition of %I for values from (%L) to (%L)%s',
      partition_name,
      parent,
      (first_day::timestamp at time zone 'UTC'),
      ((first_day + interval '1 month')::timestamp at time zone 'UTC'),
      storage
    );
  end if;
  return partition_name;
end;
$$;
--> statement-breakpoint
-- Daily partitions for the months that already hold readings.
do $$
declare
  month record;
begin
  for month in
    select distinct replace(parent.relname, '_telemetry', '') as kind, lower(pg_get_expr(child.relpartbound, child.oid)) as bound
    from pg_inherits
    join pg_class parent on parent.oid = pg_inherits.inhparent
    join pg_class child on child.oid = pg_inherits.inhrelid
    where parent.relname in ('meter_telemetry', 'vehicle_telemetry')
  loop
    perform create_telemetry_partition(month.kind || '_daily',
      (substring(month.bound from '''([^'']+)''')::timestamptz at time zone 'UTC')::date);
  end loop;
end;
$$;
--> statement-breakpoint
insert into meter_daily (meter_id, day, ac_wh_00, ac_wh_01, ac_wh_02, ac_wh_03, ac_wh_04, ac_wh_05, ac_wh_06, ac_wh_07, ac_wh_08, ac_wh_09, ac_wh_10, ac_wh_11, ac_wh_12, ac_wh_13, ac_wh_14, ac_wh_15, ac_wh_16, ac_wh_17, ac_wh_18, ac_wh_19, ac_wh_20, ac_wh_21, ac_wh_22, ac_wh_23, readings_00, readings_01, readings_02, readings_03, readings_04, readings_05, readings_06, readings_07, readings_08, readings_09, readings_10, readings_11, readings_12, readings_13, readings_14, readings_15, readings_16, readings_17, readings_18, readings_19, readings_20, readings_21, readings_22, readings_23)
select meter_id, date_trunc('day', hour, 'UTC'),
       coalesce(sum(kwh_consumed_ac * 1000) filter (where extract(hour from hour at time zone 'UTC') = 0), 0)::int8,
       coalesce(sum(kwh_consumed_ac * 1000) filter (where extract(hour from hour at time zone 'UTC') = 1), 0)::int8,
       coalesce(sum(kwh_consumed_ac * 1000) filter (where extract(hour from hour at time zone 'UTC') = 2), 0)::int8,
       coalesce(sum(kwh_consumed_ac * 1000) filter (where extract(hour from hour at time zone 'UTC') = 3), 0)::int8,
       coalesce(sum(kwh_consumed_ac * 1000) filter (where extract(hour from hour at time zone 'UTC') = 4), 0)::int8,
       coalesce(sum(kwh_consumed_ac * 1000) filter (where extract(hour from hour at time zone 'UTC') = 5), 0)::int8,
       coalesce(sum(kwh_consumed_ac * 1000) filter (where extract(hour from hour at time zone 'UTC') = 6), 0)::int8,
       coalesce(sum(kwh_consumed_ac * 1000) filter (where extract(hour from hour at time zone 'UTC') = 7), 0)::int8,
       coalesce(sum(kwh_consumed_ac * 1000) filter (where extract(hour from hour at time zone 'UTC') = 8), 0)::int8,
       coalesce(sum(kwh_consumed_ac * 1000) filter (where extract(hour from hour at time zone 'UTC') = 9), 0)::int8,
       coalesce(sum(kwh_consumed_ac * 1000) filter (where extract(hour from hour at time zone 'UTC') = 10), 0)::int8,
       coalesce(sum(kwh_consumed_ac * 1000) filter (where extract(hour from hour at time zone 'UTC') = 11), 0)::int8,
       coalesce(sum(kwh_consumed_ac * 1000) filter (where extract(hour from hour at time zone 'UTC') = 12), 0)::int8,
       coalesce(sum(kwh_consumed_ac * 1000) filter (where extract(hour from hour at time zone 'UTC') = 13), 0)::int8,
       coalesce(sum(kwh_consumed_ac * 1000) filter (where extract(hour from hour at time zone 'UTC') = 14), 0)::int8,
       coalesce(sum(kwh_consumed_ac * 1000) filter (where extract(hour from hour at time zone 'UTC') = 15), 0)::int8,
       coalesce(sum(kwh_consumed_ac * 1000) filter (where extract(hour from hour at time zone 'UTC') = 16), 0)::int8,
       coalesce(sum(kwh_consumed_ac * 1000) filter (where extract(hour from hour at time zone 'UTC') = 17), 0)::int8,
       coalesce(sum(kwh_consumed_ac * 1000) filter (where extract(hour from hour at time zone 'UTC') = 18), 0)::int8,
       coalesce(sum(kwh_consumed_ac * 1000) filter (where extract(hour from hour at time zone 'UTC') = 19), 0)::int8,
       coalesce(sum(kwh_consumed_ac * 1000) filter (where extract(hour from hour at time zone 'UTC') = 20), 0)::int8,
       coalesce(sum(kwh_consumed_ac * 1000) filter (where extract(hour from hour at time zone 'UTC') = 21), 0)::int8,
       coalesce(sum(kwh_consumed_ac * 1000) filter (where extract(hour from hour at time zone 'UTC') = 22), 0)::int8,
       coalesce(sum(kwh_consumed_ac * 1000) filter (where extract(hour from hour at time zone 'UTC') = 23), 0)::int8,
       coalesce(sum(readings) filter (where extract(hour from hour at time zone 'UTC') = 0), 0)::int4,
       coalesce(sum(readings) filter (where extract(hour from hour at time zone 'UTC') = 1), 0)::int4,
       coalesce(sum(readings) filter (where extract(hour from hour at time zone 'UTC') = 2), 0)::int4,
       coalesce(sum(readings) filter (where extract(hour from hour at time zone 'UTC') = 3), 0)::int4,
       coalesce(sum(readings) filter (where extract(hour from hour at time zone 'UTC') = 4), 0)::int4,
       coalesce(sum(readings) filter (where extract(hour from hour at time zone 'UTC') = 5), 0)::int4,
       coalesce(sum(readings) filter (where extract(hour from hour at time zone 'UTC') = 6), 0)::int4,
       coalesce(sum(readings) filter (where extract(hour from hour at time zone 'UTC') = 7), 0)::int4,
       coalesce(sum(readings) filter (where extract(hour from hour at time zone 'UTC') = 8), 0)::int4,
       coalesce(sum(readings) filter (where extract(hour from hour at time zone 'UTC') = 9), 0)::int4,
       coalesce(sum(readings) filter (where extract(hour from hour at time zone 'UTC') = 10), 0)::int4,
       coalesce(sum(readings) filter (where extract(hour from hour at time zone 'UTC') = 11), 0)::int4,
       coalesce(sum(readings) filter (where extract(hour from hour at time zone 'UTC') = 12), 0)::int4,
       coalesce(sum(readings) filter (where extract(hour from hour at time zone 'UTC') = 13), 0)::int4,
       coalesce(sum(readings) filter (where extract(hour from hour at time zone 'UTC') = 14), 0)::int4,
       coalesce(sum(readings) filter (where extract(hour from hour at time zone 'UTC') = 15), 0)::int4,
       coalesce(sum(readings) filter (where extract(hour from hour at time zone 'UTC') = 16), 0)::int4,
       coalesce(sum(readings) filter (where extract(hour from hour at time zone 'UTC') = 17), 0)::int4,
       coalesce(sum(readings) filter (where extract(hour from hour at time zone 'UTC') = 18), 0)::int4,
       coalesce(sum(readings) filter (where extract(hour from hour at time zone 'UTC') = 19), 0)::int4,
       coalesce(sum(readings) filter (where extract(hour from hour at time zone 'UTC') = 20), 0)::int4,
       coalesce(sum(readings) filter (where extract(hour from hour at time zone 'UTC') = 21), 0)::int4,
       coalesce(sum(readings) filter (where extract(hour from hour at time zone 'UTC') = 22), 0)::int4,
       coalesce(sum(readings) filter (where extract(hour from hour at time zone 'UTC') = 23), 0)::int4
from meter_hourly
group by 1, 2;
--> statement-breakpoint
insert into vehicle_daily (vehicle_id, day, dc_wh_00, dc_wh_01, dc_wh_02, dc_wh_03, dc_wh_04, dc_wh_05, dc_wh_06, dc_wh_07, dc_wh_08, dc_wh_09, dc_wh_10, dc_wh_11, dc_wh_12, dc_wh_13, dc_wh_14, dc_wh_15, dc_wh_16, dc_wh_17, dc_wh_18, dc_wh_19, dc_wh_20, dc_wh_21, dc_wh_22, dc_wh_23, readings_00, readings_01, readings_02, readings_03, readings_04, readings_05, readings_06, readings_07, readings_08, readings_09, readings_10, readings_11, readings_12, readings_13, readings_14, readings_15, readings_16, readings_17, readings_18, readings_19, readings_20, readings_21, readings_22, readings_23, temp_max_00, temp_max_01, temp_max_02, temp_max_03, temp_max_04, temp_max_05, temp_max_06, temp_max_07, temp_max_08, temp_max_09, temp_max_10, temp_max_11, temp_max_12, temp_max_13, temp_max_14, temp_max_15, temp_max_16, temp_max_17, temp_max_18, temp_max_19, temp_max_20, temp_max_21, temp_max_22, temp_max_23)
select vehicle_id, date_trunc('day', hour, 'UTC'),
       coalesce(sum(kwh_delivered_dc * 1000) filter (where extract(hour from hour at time zone 'UTC') = 0), 0)::int8,
       coalesce(sum(kwh_delivered_dc * 1000) filter (where extract(hour from hour at time zone 'UTC') = 1), 0)::int8,
       coalesce(sum(kwh_delivered_dc * 1000) filter (where extract(hour from hour at time zone 'UTC') = 2), 0)::int8,
       coalesce(sum(kwh_delivered_dc * 1000) filter (where extract(hour from hour at time zone 'UTC') = 3), 0)::int8,
       coalesce(sum(kwh_delivered_dc * 1000) filter (where extract(hour from hour at time zone 'UTC') = 4), 0)::int8,
       coalesce(sum(kwh_delivered_dc * 1000) filter (where extract(hour from hour at time zone 'UTC') = 5), 0)::int8,
       coalesce(sum(kwh_delivered_dc * 1000) filter (where extract(hour from hour at time zone 'UTC') = 6), 0)::int8,
       coalesce(sum(kwh_delivered_dc * 1000) filter (where extract(hour from hour at time zone 'UTC') = 7), 0)::int8,
       coalesce(sum(kwh_delivered_dc * 1000) filter (where extract(hour from hour at time zone 'UTC') = 8), 0)::int8,
       coalesce(sum(kwh_delivered_dc * 1000) filter (where extract(hour from hour at time zone 'UTC') = 9), 0)::int8,
       coalesce(sum(kwh_delivered_dc * 1000) filter (where extract(hour from hour at time zone 'UTC') = 10), 0)::int8,
       coalesce(sum(kwh_delivered_dc * 1000) filter (where extract(hour from hour at time zone 'UTC') = 11), 0)::int8,
       coalesce(sum(kwh_delivered_dc * 1000) filter (where extract(hour from hour at time zone 'UTC') = 12), 0)::int8,
       coalesce(sum(kwh_delivered_dc * 1000) filter (where extract(hour from hour at time zone 'UTC') = 13), 0)::int8,
       coalesce(sum(kwh_delivered_dc * 1000) filter (where extract(hour from hour at time zone 'UTC') = 14), 0)::int8,
       coalesce(sum(kwh_delivered_dc * 1000) filter (where extract(hour from hour at time zone 'UTC') = 15), 0)::int8,
       coalesce(sum(kwh_delivered_dc * 1000) filter (where extract(hour from hour at time zone 'UTC') = 16), 0)::int8,
       coalesce(sum(kwh_delivered_dc * 1000) filter (where extract(hour from hour at time zone 'UTC') = 17), 0)::int8,
       coalesce(sum(kwh_delivered_dc * 1000) filter (where extract(hour from hour at time zone 'UTC') = 18), 0)::int8,
       coalesce(sum(kwh_delivered_dc * 1000) filter (where extract(hour from hour at time zone 'UTC') = 19), 0)::int8,
       coalesce(sum(kwh_delivered_dc * 1000) filter (where extract(hour from hour at time zone 'UTC') = 20), 0)::int8,
       coalesce(sum(kwh_delivered_dc * 1000) filter (where extract(hour from hour at time zone 'UTC') = 21), 0)::int8,
       coalesce(sum(kwh_delivered_dc * 1000) filter (where extract(hour from hour at time zone 'UTC') = 22), 0)::int8,
       coalesce(sum(kwh_delivered_dc * 1000) filter (where extract(hour from hour at time zone 'UTC') = 23), 0)::int8,
       coalesce(sum(readings) filter (where extract(hour from hour at time zone 'UTC') = 0), 0)::int4,
       coalesce(sum(readings) filter (where extract(hour from hour at time zone 'UTC') = 1), 0)::int4,
       coalesce(sum(readings) filter (where extract(hour from hour at time zone 'UTC') = 2), 0)::int4,
       coalesce(sum(readings) filter (where extract(hour from hour at time zone 'UTC') = 3), 0)::int4,
       coalesce(sum(readings) filter (where extract(hour from hour at time zone 'UTC') = 4), 0)::int4,
       coalesce(sum(readings) filter (where extract(hour from hour at time zone 'UTC') = 5), 0)::int4,
       coalesce(sum(readings) filter (where extract(hour from hour at time zone 'UTC') = 6), 0)::int4,
       coalesce(sum(readings) filter (where extract(hour from hour at time zone 'UTC') = 7), 0)::int4,
       coalesce(sum(readings) filter (where extract(hour from hour at time zone 'UTC') = 8), 0)::int4,
       coalesce(sum(readings) filter (where extract(hour from hour at time zone 'UTC') = 9), 0)::int4,
       coalesce(sum(readings) filter (where extract(hour from hour at time zone 'UTC') = 10), 0)::int4,
       coalesce(sum(readings) filter (where extract(hour from hour at time zone 'UTC') = 11), 0)::int4,
       coalesce(sum(readings) filter (where extract(hour from hour at time zone 'UTC') = 12), 0)::int4,
       coalesce(sum(readings) filter (where extract(hour from hour at time zone 'UTC') = 13), 0)::int4,
       coalesce(sum(readings) filter (where extract(hour from hour at time zone 'UTC') = 14), 0)::int4,
       coalesce(sum(readings) filter (where extract(hour from hour at time zone 'UTC') = 15), 0)::int4,
       coalesce(sum(readings) filter (where extract(hour from hour at time zone 'UTC') = 16), 0)::int4,
       coalesce(sum(readings) filter (where extract(hour from hour at time zone 'UTC') = 17), 0)::int4,
       coalesce(sum(readings) filter (where extract(hour from hour at time zone 'UTC') = 18), 0)::int4,
       coalesce(sum(readings) filter (where extract(hour from hour at time zone 'UTC') = 19), 0)::int4,
       coalesce(sum(readings) filter (where extract(hour from hour at time zone 'UTC') = 20), 0)::int4,
       coalesce(sum(readings) filter (where extract(hour from hour at time zone 'UTC') = 21), 0)::int4,
       coalesce(sum(readings) filter (where extract(hour from hour at time zone 'UTC') = 22), 0)::int4,
       coalesce(sum(readings) filter (where extract(hour from hour at time zone 'UTC') = 23), 0)::int4,
       max(battery_temp_max * 100) filter (where extract(hour from hour at time zone 'UTC') = 0)::int4,
       max(battery_temp_max * 100) filter (where extract(hour from hour at time zone 'UTC') = 1)::int4,
       max(battery_temp_max * 100) filter (where extract(hour from hour at time zone 'UTC') = 2)::int4,
       max(battery_temp_max * 100) filter (where extract(hour from hour at time zone 'UTC') = 3)::int4,
       max(battery_temp_max * 100) filter (where extract(hour from hour at time zone 'UTC') = 4)::int4,
       max(battery_temp_max * 100) filter (where extract(hour from hour at time zone 'UTC') = 5)::int4,
       max(battery_temp_max * 100) filter (where extract(hour from hour at time zone 'UTC') = 6)::int4,
       max(battery_temp_max * 100) filter (where extract(hour from hour at time zone 'UTC') = 7)::int4,
       max(battery_temp_max * 100) filter (where extract(hour from hour at time zone 'UTC') = 8)::int4,
       max(battery_temp_max * 100) filter (where extract(hour from hour at time zone 'UTC') = 9)::int4,
       max(battery_temp_max * 100) filter (where extract(hour from hour at time zone 'UTC') = 10)::int4,
       max(battery_temp_max * 100) filter (where extract(hour from hour at time zone 'UTC') = 11)::int4,
       max(battery_temp_max * 100) filter (where extract(hour from hour at time zone 'UTC') = 12)::int4,
       max(battery_temp_max * 100) filter (where extract(hour from hour at time zone 'UTC') = 13)::int4,
       max(battery_temp_max * 100) filter (where extract(hour from hour at time zone 'UTC') = 14)::int4,
       max(battery_temp_max * 100) filter (where extract(hour from hour at time zone 'UTC') = 15)::int4,
       max(battery_temp_max * 100) filter (where extract(hour from hour at time zone 'UTC') = 16)::int4,
       max(battery_temp_max * 100) filter (where extract(hour from hour at time zone 'UTC') = 17)::int4,
       max(battery_temp_max * 100) filter (where extract(hour from hour at time zone 'UTC') = 18)::int4,
       max(battery_temp_max * 100) filter (where extract(hour from hour at time zone 'UTC') = 19)::int4,
       max(battery_temp_max * 100) filter (where extract(hour from hour at time zone 'UTC') = 20)::int4,
       max(battery_temp_max * 100) filter (where extract(hour from hour at time zone 'UTC') = 21)::int4,
       max(battery_temp_max * 100) filter (where extract(hour from hour at time zone 'UTC') = 22)::int4,
       max(battery_temp_max * 100) filter (where extract(hour from hour at time zone 'UTC') = 23)::int4
from vehicle_hourly
group by 1, 2;
--> statement-breakpoint
-- Links too record the transaction that last wrote them, whoever writes them.
alter table vehicle_meter_mapping add column changed_xid xid8 not null default pg_current_xact_id();
--> statement-breakpoint
create function mark_mapping_changed() returns trigger
language plpgsql
as $$
begin
  new.changed_xid := pg_current_xact_id();
  return new;
end;
$$;
--> statement-breakpoint
create trigger vehicle_meter_mapping_changed before update on vehicle_meter_mapping
for each row execute function mark_mapping_changed();
