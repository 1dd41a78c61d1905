-- Readings waiting to be added to the rollups. The request's transaction no longer touches
-- the hourly and daily rollups: it stores the reading (history and live state) and
-- appends it here, a plain insert with no conflict and no update, so overlapping writers
-- never wait on each other's rollup rows. One aggregator per database
-- (src/rollups/aggregator.ts) moves these rows into the rollups and deletes them in one
-- transaction; every analytics query adds the rows still here to the rollups it reads,
-- in the same snapshot, so each figure is exact at every instant.
--
-- Partitioned by month like the raw tables, and created and dropped with them, so
-- retention never leaves a pending row whose rollup partition is gone. The index serves
-- the per-device reads of the analytics queries; `run` is for the claim-then-delete form
-- of the aggregator (see docs/scaling.md), left null by the one-statement form.
create table meter_pending (
  meter_id uuid not null,
  recorded_at timestamptz not null,
  kwh_consumed_ac numeric(10, 3) not null,
  queued_at timestamptz not null default now(),
  run int8
) partition by range (recorded_at);
--> statement-breakpoint
create table vehicle_pending (
  vehicle_id uuid not null,
  recorded_at timestamptz not null,
  soc numeric(5, 2) not null,
  kwh_delivered_dc numeric(10, 3) not null,
  battery_temp numeric(5, 2) not null,
  queued_at timestamptz not null default now(),
  run int8
) partition by range (recorded_at);
--> statement-breakpoint
create index meter_pending_device on meter_pending (meter_id, recorded_at);
--> statement-breakpoint
create index vehicle_pending_device on vehicle_pending (vehicle_id, recorded_at);
--> statement-breakpoint
-- Who runs the aggregator, and when it last finished a run: one row, shared by every
-- instance, so any of them can report the rollups' lag.
create table rollup_aggregator (
  id int primary key default 1 check (id = 1),
  holder text,
  last_run_at timestamptz,
  last_run_readings int8 not null default 0
);
--> statement-breakpoint
insert into rollup_aggregator (id) values (1);
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
                    'vehicle_daily', 'meter_pending', 'vehicle_pending') then
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
-- Pending partitions for every month that already has raw readings' partitions.
do $$
declare
  month record;
begin
  for month in
    select replace(parent.relname, '_telemetry', '') as kind,
           (substring(lower(pg_get_expr(child.relpartbound, child.oid)) from '''([^'']+)''')::timestamptz
             at time zone 'UTC')::date as first_day
    from pg_inherits
    join pg_class parent on parent.oid = pg_inherits.inhparent
    join pg_class child on child.oid = pg_inherits.inhrelid
    where parent.relname in ('meter_telemetry', 'vehicle_telemetry')
  loop
    perform create_telemetry_partition(month.kind || '_pending', month.first_day);
  end loop;
end;
$$;
