-- Readings waiting to be added to the rollups. The request's transaction no longer touches
-- the hourly and daily rollups: it stores the reading (history and live state) and
-- appends it here, a plain insert with no conflict and no update, so overlapping writers
-- never wait on each other's rollup rows. One aggregator per database
-- (src/rollups/aggregator.ts) moves these rows into the rollups and deletes them in one
-- transaction; every analytics query adds the rows still here to the rollups it reads,
-- in the same snapshot, so each figure is exact at every instant.
--
-- A queue, not history: rows live for a fraction of a second, so it is shaped for
-- appends and short scans rather than for lookups.
-- - No index. An index entry per reading (random device ids land on random pages) cost
--   the ingest about a fifth of its throughput in batches; the rows are few, and scanned.
-- - Hash-partitioned by device id into 8, so a query about one device prunes to one
--   eighth of what is pending; not by month like the rollups, since retention deletes the
--   few pending rows of a month it drops (src/partitions/maintenance.ts).
-- - `run` is for the claim-then-delete form of the aggregator (docs/scaling.md), left
--   null by the one-statement form.
create table meter_pending (
  meter_id uuid not null,
  recorded_at timestamptz not null,
  kwh_consumed_ac numeric(10, 3) not null,
  queued_at timestamptz not null default now(),
  run int8
) partition by hash (meter_id);
--> statement-breakpoint
create table vehicle_pending (
  vehicle_id uuid not null,
  recorded_at timestamptz not null,
  soc numeric(5, 2) not null,
  kwh_delivered_dc numeric(10, 3) not null,
  battery_temp numeric(5, 2) not null,
  queued_at timestamptz not null default now(),
  run int8
) partition by hash (vehicle_id);
--> statement-breakpoint
do $$
declare
  kind text;
  remainder int;
begin
  foreach kind in array array['meter', 'vehicle'] loop
    for remainder in 0..7 loop
      execute format(
        'create table %I partition of %I for values with (modulus 8, remainder %s)',
        kind || '_pending_h' || remainder, kind || '_pending', remainder
      );
    end loop;
  end loop;
end;
$$;
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
