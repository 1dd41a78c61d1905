// What an operator watches: /metrics, /v1/admin/stats, request ids and the logs.
import { describe, expect, it } from "bun:test";
import pino from "pino";
import { createApp } from "../src/app.ts";
import { createMetrics } from "../src/observability/metrics.ts";
import { DEFAULT_NOW, useTestApp } from "./support/database.ts";
import { getJson, meterReading, newId, postJson, vehicleReading } from "./support/http.ts";
import { expectDocumented } from "./support/openapi.ts";

const logLines: Record<string, unknown>[] = [];
const log = pino({ level: "debug" }, { write: (line: string) => logLines.push(JSON.parse(line)) });
const t = useTestApp({ log });

const metricLine = (text: string, prefix: string) => text.split("\n").find((line) => line.startsWith(prefix));

describe("GET /metrics", () => {
  it("counts readings by kind and outcome, rejections by reason, and exposes the gauges", async () => {
    const metrics = createMetrics({ sql: t.database.sql, poolSize: 8, queued: () => t.writer.queued() });
    const app = createApp({
      sql: t.database.sql,
      db: t.database.db,
      writer: t.writer,
      metrics,
      now: () => DEFAULT_NOW,
    });
    const meter = meterReading();
    await postJson(app, "/v1/telemetry/meter", meter);
    await postJson(app, "/v1/telemetry/meter", meter);
    await postJson(app, "/v1/telemetry/batch", { vehicles: [vehicleReading(), vehicleReading()] });
    await postJson(app, "/v1/telemetry/vehicle", vehicleReading({ soc: 101 }));
    const response = await app.request("/metrics");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("text/plain");
    const text = await response.text();
    expect(metricLine(text, 'fleet_readings_total{kind="meter",outcome="stored"}')).toEndWith(" 1");
    expect(metricLine(text, 'fleet_readings_total{kind="meter",outcome="duplicate"}')).toEndWith(" 1");
    expect(metricLine(text, 'fleet_readings_total{kind="vehicle",outcome="stored"}')).toEndWith(" 2");
    expect(metricLine(text, 'fleet_readings_rejected_total{kind="vehicle",reason="validation_failed"}')).toEndWith(
      " 1",
    );
    expect(
      metricLine(text, 'http_request_duration_seconds_count{method="POST",route="/v1/telemetry/meter",status="201"}'),
    ).toEndWith(" 1");
    expect(metricLine(text, "fleet_write_queue_depth")).toBe("fleet_write_queue_depth 0");
    expect(metricLine(text, "fleet_db_pool_size")).toBe("fleet_db_pool_size 8");
    expect(metricLine(text, 'fleet_db_connections{state="active"}')).toMatch(/ [1-9]\d*$/);
    expect(metricLine(text, 'fleet_partitions{table="meter_telemetry"}')).toMatch(/ [1-9]\d*$/);
    expect(text).toContain("process_resident_memory_bytes");
  });

  it("shows every readings counter at 0 before any traffic, and the backlog's limit", async () => {
    const metrics = createMetrics({ sql: t.database.sql, poolSize: 2, pendingLimit: 250_000 });
    const app = createApp({ sql: t.database.sql, db: t.database.db, writer: t.writer, metrics });
    const text = await (await app.request("/metrics")).text();
    for (const kind of ["meter", "vehicle"]) {
      for (const outcome of ["stored", "duplicate"]) {
        expect(metricLine(text, `fleet_readings_total{kind="${kind}",outcome="${outcome}"}`)).toEndWith(" 0");
      }
    }
    expect(metricLine(text, "fleet_rollup_pending_limit")).toBe("fleet_rollup_pending_limit 250000");
  });
});

describe("request ids and logs", () => {
  it("gives every response an X-Request-Id, keeping a sane one the client sent", async () => {
    const made = await t.app.request("/healthz");
    expect(made.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    const kept = await t.app.request("/healthz", { headers: { "X-Request-Id": "gateway-42" } });
    expect(kept.headers.get("x-request-id")).toBe("gateway-42");
  });

  it("logs successful readings at debug only, refusals at info, each with its request id", async () => {
    logLines.length = 0;
    const stored = await t.app.request("/v1/telemetry/meter", {
      method: "POST",
      headers: { "content-type": "application/json", "x-request-id": "ok-1" },
      body: JSON.stringify(meterReading()),
    });
    expect(stored.status).toBe(201);
    const refused = await t.app.request("/v1/telemetry/meter", {
      method: "POST",
      headers: { "content-type": "application/json", "x-request-id": "bad-1" },
      body: "{}",
    });
    expect(refused.status).toBe(400);
    const okLine = logLines.find((line) => line.requestId === "ok-1");
    const badLine = logLines.find((line) => line.requestId === "bad-1");
    expect(okLine).toMatchObject({ level: 20, status: 201, route: "/v1/telemetry/meter" });
    expect(badLine).toMatchObject({ level: 30, status: 400 });
    expect(logLines.every((line) => typeof line.requestId === "string")).toBe(true);
  });
});

describe("GET /v1/admin/stats", () => {
  it("reports partitions, ingestion lag over the last hour and device liveness", async () => {
    const sql = t.database.sql;
    const now = new Date();
    t.setNow(now);
    const minutesAgo = (minutes: number) => new Date(now.getTime() - minutes * 60_000).toISOString();
    await t.partitions.ensure("meter_telemetry", [new Date(minutesAgo(200))]);
    await t.partitions.ensure("vehicle_telemetry", [new Date(minutesAgo(200))]);
    await sql`delete from meter_telemetry`;
    await sql`delete from vehicle_telemetry`;
    await sql`delete from meter_state`;
    await sql`delete from vehicle_state`;
    // Lags of 1, 2, 3 and 10 seconds, ingested within the hour; one ingested long ago.
    for (const [lag, ingestedMinutesAgo] of [
      [1, 1],
      [2, 2],
      [3, 3],
      [10, 4],
      [500, 90],
    ] as const) {
      const ingested = minutesAgo(ingestedMinutesAgo);
      await sql`
        insert into meter_telemetry (meter_id, kwh_consumed_ac, voltage, recorded_at, ingested_at)
        values (${newId()}, 1, 230, ${ingested}::timestamptz - ${`${lag} seconds`}::interval, ${ingested})
      `;
    }
    await sql`
      insert into meter_state values (${newId()}, 1, 230, ${minutesAgo(1)}), (${newId()}, 1, 230, ${minutesAgo(10)}),
                                     (${newId()}, 1, 230, ${minutesAgo(16)})
    `;
    const staleVehicle = newId();
    await sql`insert into vehicle_state values (${staleVehicle}, 50, 1, 20, ${minutesAgo(600)})`;
    await sql`analyze meter_telemetry`;

    const response = await getJson(t.app, "/v1/admin/stats");
    await expectDocumented(response);
    expect(response.status).toBe(200);
    expect(response.body.ingestionLag).toEqual({ window: "1 hour", readings: 4, averageSeconds: 4, p95Seconds: 8.95 });
    expect(response.body.devices.meters).toEqual({ total: 3, seenLast5Minutes: 1, staleOver15Minutes: 1 });
    expect(response.body.devices.vehicles).toEqual({ total: 1, seenLast5Minutes: 0, staleOver15Minutes: 1 });
    expect(response.body.devices.stale[0]).toEqual({ kind: "vehicle", id: staleVehicle, lastUpdated: minutesAgo(600) });
    const partition = response.body.partitions.find(
      (p: { name: string; rowEstimate: number }) => p.name.startsWith("meter_telemetry") && p.rowEstimate > 0,
    );
    expect(partition).toMatchObject({ table: "meter_telemetry", rowEstimate: 5 });
    expect(partition.sizeBytes).toBeGreaterThan(0);
  });
});
