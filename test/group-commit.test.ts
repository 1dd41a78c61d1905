// The group-commit writer on a real database: shared transactions, duplicates in a flush, failures, queue limit.
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { createApp } from "../src/app.ts";
import { Partitions } from "../src/partitions/partitions.ts";
import { createGroupCommitWriter, type FlushEvent } from "../src/telemetry/group-commit-writer.ts";
import { createTestDatabase, DEFAULT_NOW, type TestDatabase } from "./support/database.ts";
import { meterReading, newId, postJson, vehicleReading } from "./support/http.ts";

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database.drop();
});

function setUp(options: { maxQueued?: number; maxFlush?: number; flushConcurrency?: number } = {}) {
  const flushes: FlushEvent[] = [];
  const writer = createGroupCommitWriter(database.sql, new Partitions(database.sql), {
    maxQueued: options.maxQueued ?? 10_000,
    maxFlush: options.maxFlush ?? 1_000,
    flushConcurrency: options.flushConcurrency ?? 2,
    onFlush: (event) => flushes.push(event),
  });
  const app = createApp({ sql: database.sql, db: database.db, writer, now: () => DEFAULT_NOW });
  return { writer, app, flushes };
}

const countMeterRows = async (ids: string[]) => {
  const [row] =
    await database.sql`select count(*)::int as count from meter_telemetry where meter_id in ${database.sql(ids)}`;
  return row?.count as number;
};

describe("group commit", () => {
  it("writes many concurrent requests in few transactions, answering each after commit", async () => {
    const { app, flushes } = setUp();
    const meters = Array.from({ length: 300 }, () => meterReading());
    const vehicles = Array.from({ length: 300 }, () => vehicleReading());
    const answers = await Promise.all([
      ...meters.map((m) => postJson(app, "/v1/telemetry/meter", m)),
      ...vehicles.map((v) => postJson(app, "/v1/telemetry/vehicle", v)),
    ]);
    expect(answers.every((a) => a.status === 201)).toBe(true);
    expect(await countMeterRows(meters.map((m) => m.meterId))).toBe(300);
    expect(flushes.reduce((sum, f) => sum + f.readings, 0)).toBe(600);
    expect(flushes.length).toBeLessThan(100);
  });

  it("stores a reading sent many times at once exactly once: one stored, the rest duplicate", async () => {
    const { app } = setUp({ flushConcurrency: 1 });
    const reading = meterReading();
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        postJson(app, "/v1/telemetry/meter", { ...reading, kwhConsumedAc: i === 0 ? 1.5 : 99 }),
      ),
    );
    expect(answers.filter((a) => a.status === 201)).toHaveLength(1);
    expect(answers.filter((a) => a.status === 200 && a.body.status === "duplicate")).toHaveLength(19);
    const rows = await database.sql`select kwh_consumed_ac from meter_telemetry where meter_id = ${reading.meterId}`;
    expect([...rows]).toEqual([{ kwh_consumed_ac: 1.5 }]);
  });

  it("fails exactly the requests of a failing flush with 503, and recovers", async () => {
    const { app, writer } = setUp();
    await database.sql`alter table vehicle_state rename to vehicle_state_away`;
    const failing = Array.from({ length: 5 }, () => vehicleReading());
    const answers = await Promise.all(failing.map((v) => postJson(app, "/v1/telemetry/vehicle", v)));
    await database.sql`alter table vehicle_state_away rename to vehicle_state`;
    for (const answer of answers) {
      expect(answer.status).toBe(503);
      expect(answer.headers.get("retry-after")).toBe("1");
      expect(answer.body.error.code).toBe("write_failed");
    }
    const [row] = await database.sql`
      select count(*)::int as count from vehicle_telemetry where vehicle_id in ${database.sql(failing.map((v) => v.vehicleId))}
    `;
    expect(row?.count).toBe(0);
    expect(await writer.writeVehicle({ ...vehicleReadingParsed(), vehicleId: newId() })).toBe("stored");
  });

  it("refuses writes with 503 overloaded when the queue is full, and answers the queued ones", async () => {
    const { app, writer } = setUp({ maxQueued: 3, flushConcurrency: 1 });
    const blocker = await database.sql.reserve();
    await blocker`begin`;
    await blocker`lock table meter_state in access exclusive mode`;
    const first = postJson(app, "/v1/telemetry/meter", meterReading()); // taken by the (blocked) flush
    await Bun.sleep(50);
    const queued = [1, 2, 3].map(() => postJson(app, "/v1/telemetry/meter", meterReading()));
    await Bun.sleep(20);
    expect(writer.queued()).toBe(3);
    const refused = await postJson(app, "/v1/telemetry/meter", meterReading());
    expect(refused.status).toBe(503);
    expect(refused.body.error.code).toBe("overloaded");
    expect(refused.headers.get("retry-after")).toBe("1");
    await blocker`commit`;
    blocker.release();
    expect((await first).status).toBe(201);
    for (const answer of await Promise.all(queued)) expect(answer.status).toBe(201);
  });

  it("drains its queue on close and refuses later writes", async () => {
    const { app, writer } = setUp({ flushConcurrency: 1 });
    const blocker = await database.sql.reserve();
    await blocker`begin`;
    await blocker`lock table meter_state in access exclusive mode`;
    const pending = Array.from({ length: 50 }, () => postJson(app, "/v1/telemetry/meter", meterReading()));
    while (writer.queued() < 49) await Bun.sleep(5); // one is in the blocked flush
    const closing = writer.close();
    const late = await postJson(app, "/v1/telemetry/meter", meterReading());
    expect(late.status).toBe(503);
    expect(late.body.error.code).toBe("shutting_down");
    await blocker`commit`;
    blocker.release();
    await closing;
    expect(writer.queued()).toBe(0);
    for (const answer of await Promise.all(pending)) expect(answer.status).toBe(201);
  });
});

function vehicleReadingParsed() {
  return {
    vehicleId: newId(),
    soc: 50,
    kwhDeliveredDc: 1,
    batteryTemp: 20,
    timestamp: new Date("2026-03-15T11:00:00Z"),
  };
}
