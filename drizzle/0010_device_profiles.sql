CREATE TABLE "device_profiles" (
	"kind" text NOT NULL,
	"device_id" uuid NOT NULL,
	"name" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "device_profiles_kind_device_id_pk" PRIMARY KEY("kind","device_id"),
	CONSTRAINT "device_profiles_kind_check" CHECK ("device_profiles"."kind" in ('vehicle', 'meter')),
	CONSTRAINT "device_profiles_name_check" CHECK (char_length("device_profiles"."name") between 1 and 100)
);
