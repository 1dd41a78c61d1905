CREATE TABLE "meter_state" (
	"meter_id" uuid PRIMARY KEY NOT NULL,
	"kwh_consumed_ac" numeric(10, 3) NOT NULL,
	"voltage" numeric(6, 2) NOT NULL,
	"last_updated" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "vehicle_meter_mapping" (
	"vehicle_id" uuid NOT NULL,
	"meter_id" uuid NOT NULL,
	"is_active" boolean DEFAULT true NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "vehicle_meter_mapping_vehicle_id_meter_id_pk" PRIMARY KEY("vehicle_id","meter_id")
);
--> statement-breakpoint
CREATE TABLE "vehicle_state" (
	"vehicle_id" uuid PRIMARY KEY NOT NULL,
	"soc" numeric(5, 2) NOT NULL,
	"kwh_delivered_dc" numeric(10, 3) NOT NULL,
	"battery_temp" numeric(5, 2) NOT NULL,
	"last_updated" timestamp with time zone NOT NULL
);
