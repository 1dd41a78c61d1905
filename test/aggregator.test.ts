// The rollup aggregator off the request path: visible lag, backlog refusal, one runner at a time, takeover.
// Its lag shows in /v1/admin/stats and /metrics, a backlog past its bound refuses writes with 503, exactly one
// of several aggregators works at a time, another takes over when it stops, and a failing run gives the lock
// up and is retried.
import { describe, expect, it } from "bun:test";
import { createApp } from "../src/app.ts";
import { createMetrics } from "../src/observability/metrics.ts";
import { Aggregator, aggregateOnce, type RunResult } from "../src/rollups/aggregator.ts";
import { BacklogGate } from "../src/rollups/backlog.ts";
import { useTestApp } from "./support/database.ts";
import { getJson, meterReading, newId, postJson, vehicleReading } from "./support/http.ts";

const t = useTestApp();

const pending = async () => {
  const [row] = await t.database.sql<{ count: number }[]>`
    select ((select count(*) from meter_pending) + (select count(*) from vehicle_pending))::int as count
  `;
  return row?.count ?? 0;
};

/** Waits until `condition` holds, checking every 20 ms, for at most `ms`. */
async function eventually(condition: () => boolean | Promise<boolean>, ms = 5_000) {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms`);
    await Bun.sleep(20);
  }
}

const minute = (i: number) => new Date(Date.parse("2026-03-15T10:00:00Z") + i * 60_000).toISOString();

async function sendReadings(count: number) {
  const meterId = newId();
  const vehicleId = newId();
  const response = await postJson(t.app, "/v1/telemetry/batch", {
    meters: Array.from({ length: count }, (_, i) => meterReading({ meterId, timestamp: minute(i) })),
    vehicles: Array.from({ length: count }, (_, i) => vehicleReading({ vehicleId, timestamp: minute(i) })),
  });
  expect(response.status).toBe(201);
  return { meterId, vehicleId };
}

function aggregator(holder: string, runs: RunResult[] = [], errors: unknown[] = []) {
  return new Aggregator({
    sql: t.database.sql,
    intervalMs: 30,
    takeoverMs: 100,
    limit: 1_000,
    claim: "delete",
    holder,
    onRun: (run) => runs.push(run),
    onError: (error) => errors.push(error),
  });
}

describe("rollup backlog", () => {
  it("is reported by /v1/admin/stats and /metrics while readings wait", async () => {
    await sendReadings(3);
    const stats = await getJson(t.app, "/v1/admin/stats");
    expect(stats.status).toBe(200);
    expect(stats.body.rollups).toMatchObject({ pendingReadings: 6, lastRunAt: null });
    expect(stats.body.rollups.oldestPendingSeconds).toBeGreaterThanOrEqual(0);
    expect(stats.body.rollups.oldestPendingSeconds).toBeLessThan(60);

    const metrics = createMetrics({ sql: t.database.sql, poolSize: 8 });
    const app = createApp({ sql: t.database.sql, db: t.database.db, writer: t.writer, metrics });
    const text = await (await app.request("/metrics")).text();
    expect(text).toContain("fleet_rollup_pending_readings 6");
    expect(text).toMatch(/fleet_rollup_oldest_pending_seconds \d/);
    expect(text).toContain("fleet_rollup_last_run_timestamp_seconds 0\n");

    const run = await aggregateOnce(t.database.sql);
    expect(run).toMatchObject({ readings: 6, hourlyRows: 2, dailyRows: 2 });
    const after = await getJson(t.app, "/v1/admin/stats");
    expect(after.body.rollups).toMatchObject({ pendingReadings: 0, oldestPendingSeconds: 0 });
    expect(Date.now() - Date.parse(after.body.rollups.lastRunAt)).toBeLessThan(60_000);
    expect(await (await app.request("/metrics")).text()).toMatch(/fleet_rollup_last_run_timestamp_seconds [1-9]\d{9}/);
  });

  it("refuses writes with 503 overloaded past its bound, writing nothing, and takes them once drained", async () => {
    const gate = new BacklogGate(t.database.sql, 5);
    const app = createApp({ sql: t.database.sql, db: t.database.db, writer: t.writer, backlog: gate });
    await sendReadings(3);
    await gate.refresh();
    const reading = vehicleReading();
    const refused = await postJson(app, "/v1/telemetry/vehicle", reading);
    expect(refused.status).toBe(503);
    expect(refused.headers.get("retry-after")).toBe("5");
    expect(refused.body.error.code).toBe("overloaded");
    const [stored] = await t.database
      .sql`select count(*)::int as count from vehicle_telemetry where vehicle_id = ${reading.vehicleId}`;
    expect(stored?.count).toBe(0);
    // Reads are never refused.
    expect((await app.request(`/v1/vehicles/${newId()}/state`)).status).toBe(404);

    await aggregateOnce(t.database.sql);
    await gate.refresh();
    expect((await postJson(app, "/v1/telemetry/vehicle", reading)).status).toBe(201);
    await aggregateOnce(t.database.sql);
  });
});

describe("aggregators on one database", () => {
  it("lets exactly one work, and another take over when it stops", async () => {
    const runs = { a: [] as RunResult[], b: [] as RunResult[] };
    const [a, b] = [aggregator("a", runs.a), aggregator("b", runs.b)];
    a.start();
    await eventually(() => a.isLeader);
    b.start();
    await Bun.sleep(300);
    expect([a.isLeader, b.isLeader]).toEqual([true, false]);
    expect(runs.b).toHaveLength(0);

    await sendReadings(5);
    await eventually(async () => (await pending()) === 0);
    const [holder] = await t.database.sql`select holder from rollup_aggregator`;
    expect(holder?.holder).toBe("a");

    await a.stop();
    await eventually(() => b.isLeader, 2_000);
    await sendReadings(5);
    await eventually(async () => (await pending()) === 0);
    expect(runs.b.reduce((sum, run) => sum + run.readings, 0)).toBe(10);
    const [taken] = await t.database.sql`select holder from rollup_aggregator`;
    expect(taken?.holder).toBe("b");
    await b.stop();
  });

  it("vacuums the pending tables it empties, so scans of them do not wade through dead rows", async () => {
    const vacuumed = async () => {
      const [row] = await t.database.sql<{ count: number }[]>`
        select count(*)::int as count from pg_stat_user_tables
        where relname like 'vehicle_pending_h%' and last_vacuum is not null
      `;
      return row?.count ?? 0;
    };
    const before = await vacuumed();
    const worker = new Aggregator({
      sql: t.database.sql,
      intervalMs: 30,
      takeoverMs: 100,
      limit: 1_000,
      claim: "delete",
      holder: "vacuuming",
      vacuumAfterReadings: 1,
    });
    worker.start();
    await sendReadings(20);
    await eventually(async () => (await pending()) === 0);
    await eventually(async () => (await vacuumed()) > before, 10_000);
    await worker.stop();
  });

  it("gives the lock up when a run fails, and retries until it succeeds", async () => {
    // A pending reading whose month has no hourly rollup partition: its run must fail.
    await t.database.sql`
      insert into meter_pending (meter_id, recorded_at, kwh_consumed_ac) values (${newId()}, '2031-01-05T00:00:00Z', 1.5)
    `;
    const runs: RunResult[] = [];
    const errors: unknown[] = [];
    const failing = aggregator("failing", runs, errors);
    failing.start();
    await eventually(() => errors.length >= 2);
    expect(runs).toHaveLength(0);
    expect(await pending()).toBe(1);
    for (const table of ["meter_hourly", "meter_daily"]) {
      await t.database.sql`select create_telemetry_partition(${table}, '2031-01-01')`;
    }
    await eventually(async () => (await pending()) === 0);
    expect(runs.at(-1)?.readings).toBe(1);
    await failing.stop();
    const [hourly] = await t.database.sql`select count(*)::int as count from meter_hourly where hour >= '2031-01-01'`;
    expect(hourly?.count).toBe(1);
  });
});
