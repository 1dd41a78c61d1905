// The partition lifecycle: creation ahead, retention, refusal of readings past the horizon, concurrent runs.
// Retention drops exactly the partitions entirely past the horizon, and two processes may run maintenance at once.
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { createApp } from "../src/app.ts";
import { maintainPartitions, retentionHorizon } from "../src/partitions/maintenance.ts";
import { Partitions } from "../src/partitions/partitions.ts";
import { createDirectWriter } from "../src/telemetry/writer.ts";
import { createTestDatabase, type TestDatabase } from "./support/database.ts";
import { meterReading, postJson } from "./support/http.ts";

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database.drop();
});

const NOW = new Date("2026-11-27T10:00:00Z");
// Raw partitions only: each has hourly and daily twins, created and dropped with it (checked below).
const names = async (partitions: Partitions) =>
  (await partitions.list()).filter((p) => p.table.endsWith("_telemetry")).map((p) => p.name);
const rawOnly = (dropped: string[]) => dropped.filter((name) => name.includes("_telemetry_"));

async function createMonths(partitions: Partitions, from: Date, count: number) {
  const dates = Array.from(
    { length: count },
    (_, i) => new Date(Date.UTC(from.getUTCFullYear(), from.getUTCMonth() + i, 15)),
  );
  await partitions.ensure("meter_telemetry", dates);
  await partitions.ensure("vehicle_telemetry", dates);
}

describe("retention horizon", () => {
  it("is the start of the UTC month N months back, or none", () => {
    expect(retentionHorizon(NOW, 3)?.toISOString()).toBe("2026-08-01T00:00:00.000Z");
    expect(retentionHorizon(new Date("2026-01-01T00:00:00Z"), 1)?.toISOString()).toBe("2025-12-01T00:00:00.000Z");
    expect(retentionHorizon(NOW, undefined)).toBeUndefined();
  });
});

describe("partition maintenance", () => {
  it("creates ahead and drops nothing when no retention is set", async () => {
    const partitions = new Partitions(database.sql);
    await createMonths(partitions, new Date("2024-01-01Z"), 3);
    const result = await maintainPartitions({ sql: database.sql, partitions, now: () => NOW, monthsAhead: 2 });
    expect(result).toEqual({ didRun: true, dropped: [] });
    const listed = await names(partitions);
    expect(listed).toContain("meter_telemetry_y2024m01");
    expect(listed).toContain("vehicle_telemetry_y2027m01");
  });

  it("drops exactly the partitions entirely older than the horizon, and only those", async () => {
    const partitions = new Partitions(database.sql);
    await createMonths(partitions, new Date("2026-05-01Z"), 6); // May to October
    await database.sql`
      insert into meter_telemetry (meter_id, kwh_consumed_ac, voltage, recorded_at)
      values (gen_random_uuid(), 1, 230, '2026-07-31T23:59:59Z'), (gen_random_uuid(), 1, 230, '2026-08-01T00:00:00Z')
    `;
    // Waiting for the aggregator too: the dropped month's must go with its rollups.
    await database.sql`
      insert into meter_pending (meter_id, kwh_consumed_ac, recorded_at)
      values (gen_random_uuid(), 1, '2026-07-31T23:59:59Z'), (gen_random_uuid(), 1, '2026-08-01T00:00:00Z')
    `;
    const result = await maintainPartitions({
      sql: database.sql,
      partitions,
      now: () => NOW,
      monthsAhead: 2,
      retentionMonths: 3,
    });
    expect(result.dropped.filter((name) => name.includes("_hourly_")).length).toBe(12);
    expect(result.dropped.filter((name) => name.includes("_daily_")).length).toBe(12);
    expect(rawOnly(result.dropped).sort()).toEqual(
      [
        "meter_telemetry_y2024m01",
        "meter_telemetry_y2024m02",
        "meter_telemetry_y2024m03",
        "meter_telemetry_y2026m05",
        "meter_telemetry_y2026m06",
        "meter_telemetry_y2026m07",
        "vehicle_telemetry_y2024m01",
        "vehicle_telemetry_y2024m02",
        "vehicle_telemetry_y2024m03",
        "vehicle_telemetry_y2026m05",
        "vehicle_telemetry_y2026m06",
        "vehicle_telemetry_y2026m07",
      ].sort(),
    );
    expect(await names(partitions)).toEqual([
      "meter_telemetry_y2026m08",
      "meter_telemetry_y2026m09",
      "meter_telemetry_y2026m10",
      "meter_telemetry_y2026m11",
      "meter_telemetry_y2026m12",
      "meter_telemetry_y2027m01",
      "vehicle_telemetry_y2026m08",
      "vehicle_telemetry_y2026m09",
      "vehicle_telemetry_y2026m10",
      "vehicle_telemetry_y2026m11",
      "vehicle_telemetry_y2026m12",
      "vehicle_telemetry_y2027m01",
    ]);
    const kept = await database.sql`select recorded_at::text from meter_telemetry`;
    expect([...kept]).toEqual([{ recorded_at: "2026-08-01 00:00:00+00" }]);
    const pending = await database.sql`select recorded_at::text from meter_pending`;
    expect([...pending]).toEqual([{ recorded_at: "2026-08-01 00:00:00+00" }]);

    const again = await maintainPartitions({
      sql: database.sql,
      partitions,
      now: () => NOW,
      monthsAhead: 2,
      retentionMonths: 3,
    });
    expect(again).toEqual({ didRun: true, dropped: [] });
  });

  it("is safe when two processes run it at once", async () => {
    const partitions = new Partitions(database.sql);
    await createMonths(partitions, new Date("2026-01-01Z"), 3);
    const script = new URL("./support/run-maintenance.ts", import.meta.url).pathname;
    const runs = [0, 1].map(() =>
      Bun.spawn(["bun", script, database.url, NOW.toISOString(), "3"], { stdout: "pipe", stderr: "pipe" }),
    );
    const results = [];
    for (const run of runs) {
      expect(await run.exited).toBe(0);
      results.push(JSON.parse(await new Response(run.stdout).text()));
    }
    // Whoever got the lock dropped Jan-Mar; the other skipped or found nothing left to drop.
    const dropped = rawOnly(results.flatMap((result) => result.dropped)).sort();
    expect(dropped).toEqual([
      "meter_telemetry_y2026m01",
      "meter_telemetry_y2026m02",
      "meter_telemetry_y2026m03",
      "vehicle_telemetry_y2026m01",
      "vehicle_telemetry_y2026m02",
      "vehicle_telemetry_y2026m03",
    ]);
    expect((await names(partitions)).filter((name) => /y2026m0[1-3]$/.test(name))).toEqual([]);
  }, 30_000);

  it("refuses readings older than the retention horizon with a 400 naming the timestamp", async () => {
    const sql = database.sql;
    const partitions = new Partitions(sql);
    const app = createApp({
      sql,
      db: database.db,
      writer: createDirectWriter(sql, partitions),
      partitions,
      now: () => NOW,
      retentionHorizon: () => retentionHorizon(NOW, 3),
    });
    const old = await postJson(app, "/v1/telemetry/meter", meterReading({ timestamp: "2026-07-31T23:59:59Z" }));
    expect(old.status).toBe(400);
    expect(old.body.error.details).toEqual([
      { field: "timestamp", message: "must not be before the retention horizon, 2026-08-01T00:00:00.000Z" },
    ]);
    const kept = await postJson(app, "/v1/telemetry/meter", meterReading({ timestamp: "2026-08-01T00:00:00Z" }));
    expect(kept.status).toBe(201);
  });
});
