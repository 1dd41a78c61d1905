-- When each vehicle was first seen: the earliest recorded_at of its readings. Coverage
-- counts a vehicle's expected readings from then when it falls inside a window, so a
-- vehicle that started reporting two days ago is not expected to have thirty days of
-- readings (docs/design.md, "Coverage"). The rollup aggregator keeps it as it adds
-- readings (src/rollups/rollup-sql.ts); readers add the readings still pending.
CREATE TABLE "vehicle_first_seen" (
	"vehicle_id" uuid PRIMARY KEY NOT NULL,
	"first_seen" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE INDEX "vehicle_first_seen_first_seen_idx" ON "vehicle_first_seen" USING btree ("first_seen");
--> statement-breakpoint
-- Backfilled from the history itself: every vehicle with a live row has readings, and its
-- earliest is one backward step of the (vehicle_id, recorded_at desc) index per partition.
-- Pending readings are in the history too, so nothing is missed.
insert into vehicle_first_seen (vehicle_id, first_seen)
select s.vehicle_id, first.recorded_at
from vehicle_state s
cross join lateral (
  select min(t.recorded_at) as recorded_at from vehicle_telemetry t where t.vehicle_id = s.vehicle_id
) first
where first.recorded_at is not null;
