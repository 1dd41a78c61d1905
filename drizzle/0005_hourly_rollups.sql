-- Hourly rollups per device, maintained in the same statement as the raw readings (see
-- src/telemetry/store.ts), so they are never stale and never disagree with the raw rows:
-- only readings that were really inserted are added, each to its own UTC hour. Analytics
-- read whole hours here and raw rows only for partial hours. Partitioned by month like
-- the raw tables, so retention drops both together.
create table meter_hourly (
  meter_id uuid not null,
  hour timestamptz not null,
  kwh_consumed_ac numeric(16, 3) not null,
  readings integer not null,
  primary key (meter_id, hour)
) partition by range (hour);
--> statement-breakpoint
create table vehicle_hourly (
  vehicle_id uuid not null,
  hour timestamptz not null,
  kwh_delivered_dc numeric(16, 3) not null,
  readings integer not null,
  battery_temp_sum numeric(14, 2) not null,
  battery_temp_min numeric(5, 2) not null,
  battery_temp_max numeric(5, 2) not null,
  soc_min numeric(5, 2) not null,
  soc_max numeric(5, 2) not null,
  primary key (vehicle_id, hour)
) partition by range (hour);
--> statement-breakpoint
-- Rows updated in place on every reading: leave room on each page so the updates stay
-- HOT (no new index entries) instead of bloating the primary keys.
alter table meter_state set (fillfactor = 70);
--> statement-breakpoint
alter table vehicle_state set (fillfactor = 70);
--> statement-breakpoint
create or replace function create_telemetry_partition(parent text, month_start date)
returns text
language plpgsql
as $$
declare
  first_day date := date_trunc('month', month_start)::date;
  partition_name text := format('%s_y%sm%s', parent, to_char(first_day, 'YYYY'), to_char(first_day, 'MM'));
  storage text := case when parent like '%\_hourly' then ' with (fillfactor = 70)' else '' end;
begin
  if parent not in ('meter_telemetry', 'vehicle_telemetry', 'meter_hourly', 'vehicle_hourly') then
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
-- Rollups for partitions that already hold readings.
do $$
declare
  month record;
begin
  for month in
    select distinct replace(parent.relname, '_telemetry', '') as kind, lower(pg_get_expr(child.relpartbound, child.oid)) as bound,
           child.relname as child
    from pg_inherits
    join pg_class parent on parent.oid = pg_inherits.inhparent
    join pg_class child on child.oid = pg_inherits.inhrelid
    where parent.relname in ('meter_telemetry', 'vehicle_telemetry')
  loop
    perform create_telemetry_partition(month.kind || '_hourly',
      (substring(month.bound from '''([^'']+)''')::timestamptz at time zone 'UTC')::date);
  end loop;
end;
$$;
--> statement-breakpoint
insert into meter_hourly (meter_id, hour, kwh_consumed_ac, readings)
select meter_id, date_trunc('hour', recorded_at, 'UTC'), sum(kwh_consumed_ac), count(*)
from meter_telemetry group by 1, 2;
--> statement-breakpoint
insert into vehicle_hourly (vehicle_id, hour, kwh_delivered_dc, readings, battery_temp_sum, battery_temp_min,
                            battery_temp_max, soc_min, soc_max)
select vehicle_id, date_trunc('hour', recorded_at, 'UTC'), sum(kwh_delivered_dc), count(*), sum(battery_temp),
       min(battery_temp), max(battery_temp), min(soc), max(soc)
from vehicle_telemetry group by 1, 2;
