-- Ingestion lag (ingested_at - recorded_at over the last hour) is read by GET /v1/admin/stats.
-- Rows are appended roughly in ingested_at order, so a BRIN index finds the last hour's
-- pages for almost nothing, where a b-tree would cost every insert a second index write.
create index meter_telemetry_ingested_at_brin on meter_telemetry using brin (ingested_at);
--> statement-breakpoint
create index vehicle_telemetry_ingested_at_brin on vehicle_telemetry using brin (ingested_at);
