-- Daily rollups per device, beside the hourly ones and maintained in the same statement
-- (src/telemetry/rollups.ts explains the arrays): any run of whole hours that starts or
-- ends at a UTC midnight is read from one row per day, so the fleet view over 24 hours
-- reads two rows per device instead of 24. Partitioned by month like the rest, so
-- retention drops them with their raw month.
create table meter_daily (
  meter_id uuid not null,
  day timestamptz not null,
  ac_wh_before int8[] not null,
  readings_before int4[] not null,
  -- The transaction that last wrote the row: what the fleet cache reads again (src/analytics/fleet-cache.ts).
  changed_xid xid8 not null default pg_current_xact_id(),
  primary key (meter_id, day)
) partition by range (day);
--> statement-breakpoint
create table vehicle_daily (
  vehicle_id uuid not null,
  day timestamptz not null,
  dc_wh_before int8[] not null,
  readings_before int4[] not null,
  temp_max_before int4[] not null,
  temp_max_from int4[] not null,
  changed_xid xid8 not null default pg_current_xact_id(),
  primary key (vehicle_id, day)
) partition by range (day);
--> statement-breakpoint
-- The fleet view reads a few days of every device, in ranges of device id; neither column
-- of a row ever changes, so its in-place updates stay HOT.
create index meter_daily_day_idx on meter_daily (day, meter_id);
--> statement-breakpoint
create index vehicle_daily_day_idx on vehicle_daily (day, vehicle_id);
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
insert into meter_daily (meter_id, day, ac_wh_before, readings_before)
select meter_id, day, array_agg(ac_wh order by i), array_agg(readings order by i)
from (
  select h.meter_id, date_trunc('day', h.hour, 'UTC') as day, i,
         coalesce(sum((h.kwh_consumed_ac * 1000)::int8)
           filter (where extract(hour from h.hour at time zone 'UTC') < i), 0)::int8 as ac_wh,
         coalesce(sum(h.readings) filter (where extract(hour from h.hour at time zone 'UTC') < i), 0)::int4 as readings
  from meter_hourly h cross join generate_series(0, 24) as i
  group by 1, 2, 3
) before
group by 1, 2;
--> statement-breakpoint
insert into vehicle_daily (vehicle_id, day, dc_wh_before, readings_before, temp_max_before, temp_max_from)
select vehicle_id, day, array_agg(dc_wh order by i), array_agg(readings order by i), array_agg(max_before order by i),
       array_agg(max_from order by i)
from (
  select h.vehicle_id, date_trunc('day', h.hour, 'UTC') as day, i,
         coalesce(sum((h.kwh_delivered_dc * 1000)::int8)
           filter (where extract(hour from h.hour at time zone 'UTC') < i), 0)::int8 as dc_wh,
         coalesce(sum(h.readings) filter (where extract(hour from h.hour at time zone 'UTC') < i), 0)::int4 as readings,
         (max(h.battery_temp_max) filter (where extract(hour from h.hour at time zone 'UTC') < i) * 100)::int4 as max_before,
         (max(h.battery_temp_max) filter (where extract(hour from h.hour at time zone 'UTC') >= i) * 100)::int4 as max_from
  from vehicle_hourly h cross join generate_series(0, 24) as i
  group by 1, 2, 3
) before
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
