-- The cold store: every reading ever accepted, appended, partitioned by month of
-- recorded_at so that a time-window query reads only the months it needs and old months
-- can be dropped whole. Partitioned tables cannot be declared in the Drizzle schema,
-- so they live here. There is deliberately no DEFAULT partition: a reading is stored
-- only in its own month's partition, which create_telemetry_partition() makes on demand.
create table meter_telemetry (
  id bigserial not null,
  meter_id uuid not null,
  kwh_consumed_ac numeric(10, 3) not null,
  voltage numeric(6, 2) not null,
  recorded_at timestamptz not null,
  ingested_at timestamptz not null default now()
) partition by range (recorded_at);
--> statement-breakpoint
-- One reading per device and instant: replays are detected by this index (the partition
-- key is part of it, which is what lets PostgreSQL enforce it across partitions).
create unique index meter_telemetry_meter_id_recorded_at_key
  on meter_telemetry (meter_id, recorded_at desc);
--> statement-breakpoint
create table vehicle_telemetry (
  id bigserial not null,
  vehicle_id uuid not null,
  soc numeric(5, 2) not null,
  kwh_delivered_dc numeric(10, 3) not null,
  battery_temp numeric(5, 2) not null,
  recorded_at timestamptz not null,
  ingested_at timestamptz not null default now()
) partition by range (recorded_at);
--> statement-breakpoint
create unique index vehicle_telemetry_vehicle_id_recorded_at_key
  on vehicle_telemetry (vehicle_id, recorded_at desc);
--> statement-breakpoint
-- Creates the partition of `parent` that holds the UTC month containing `month_start`,
-- if it does not exist yet, and returns its name (e.g. meter_telemetry_y2026m02).
-- Safe to call concurrently: creators of the same partition queue on an advisory lock,
-- since CREATE TABLE IF NOT EXISTS alone can still fail when two race.
create or replace function create_telemetry_partition(parent text, month_start date)
returns text
language plpgsql
as $$
declare
  first_day date := date_trunc('month', month_start)::date;
  partition_name text := format('%s_y%sm%s', parent, to_char(first_day, 'YYYY'), to_char(first_day, 'MM'));
begin
  if parent not in ('meter_telemetry', 'vehicle_telemetry') then
    raise exception 'not a telemetry table: %', parent;
  end if;
  perform pg_advisory_xact_lock(hashtext(partition_name));
  if to_regclass(partition_name) is null then
    execute format(
      'create table %I partition of %I for values from (%L) to (%L)',
      partition_name,
      parent,
      (first_day::timestamp at time zone 'UTC'),
      ((first_day + interval '1 month')::timestamp at time zone 'UTC')
    );
  end if;
  return partition_name;
end;
$$;
