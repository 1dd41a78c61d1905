-- The fleet view reads one window of hours for every device. An index on hour alone costs
-- the write path little: a rollup row's hour never changes, so its in-place updates stay HOT.
create index vehicle_hourly_hour_idx on vehicle_hourly (hour);
--> statement-breakpoint
create index meter_hourly_hour_idx on meter_hourly (hour);
