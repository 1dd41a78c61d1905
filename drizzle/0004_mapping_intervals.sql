-- Links gain a validity interval [linked_at, unlinked_at). Existing links keep their
-- meaning: an active one covered the meter's whole history, so it becomes
-- (-infinity, infinity); an inactive one counted for nothing, so it becomes the empty
-- interval (-infinity, -infinity).
ALTER TABLE "vehicle_meter_mapping" ADD COLUMN "linked_at" timestamp with time zone DEFAULT '-infinity' NOT NULL;--> statement-breakpoint
ALTER TABLE "vehicle_meter_mapping" ADD COLUMN "unlinked_at" timestamp with time zone DEFAULT 'infinity' NOT NULL;--> statement-breakpoint
UPDATE "vehicle_meter_mapping" SET "unlinked_at" = '-infinity' WHERE NOT "is_active";--> statement-breakpoint
ALTER TABLE "vehicle_meter_mapping" DROP CONSTRAINT "vehicle_meter_mapping_vehicle_id_meter_id_pk";--> statement-breakpoint
ALTER TABLE "vehicle_meter_mapping" DROP COLUMN "is_active";--> statement-breakpoint
ALTER TABLE "vehicle_meter_mapping" ADD COLUMN "is_active" boolean GENERATED ALWAYS AS (unlinked_at = 'infinity') STORED NOT NULL;--> statement-breakpoint
ALTER TABLE "vehicle_meter_mapping" ADD CONSTRAINT "vehicle_meter_mapping_vehicle_id_meter_id_linked_at_pk" PRIMARY KEY("vehicle_id","meter_id","linked_at");--> statement-breakpoint
CREATE INDEX "vehicle_meter_mapping_meter_id_idx" ON "vehicle_meter_mapping" USING btree ("meter_id","linked_at");
