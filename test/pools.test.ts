// Writes keep their share of the database: waiting for a connection is bounded (503
// database_busy with Retry-After, over a real socket too), reads have a pool of their own
// that cannot starve writes, and analytics and admin queries are held to their
// statement_timeout (503 query_timeout, never 500).
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { createApp } from "../src/app.ts";
import { createSql, type Sql } from "../src/db/client.ts";
import { PoolGate } from "../src/db/pool-gate.ts";
import { Partitions } from "../src/partitions/partitions.ts";
import { createGroupCommitWriter } from "../src/telemetry/group-commit-writer.ts";
import { createTestDatabase, DEFAULT_NOW, type TestDatabase } from "./support/database.ts";
import { getJson, meterReading, newId, postJson, vehicleReading } from "./support/http.ts";

const WAIT_MS = 400;
const POOL_SIZE = 3;

let database: TestDatabase;
let writeSql: Sql;
let readSql: Sql;
const unexpected: unknown[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  writeSql = createSql({ url: database.url, poolSize: POOL_SIZE, connectTimeoutSeconds: 10 });
  readSql = createSql({ url: database.url, poolSize: 2, connectTimeoutSeconds: 10 });
});
afterAll(async () => {
  expect(unexpected).toEqual([]);
  await writeSql.end({ timeout: 5 });
  await readSql.end({ timeout: 5 });
  await database.drop();
});

/** The app as production wires it: a write pool and a read pool, each behind its gate. */
function wire(options: { analyticsSql?: Sql; adminStatementTimeoutMs?: number } = {}) {
  const gates = { write: new PoolGate(POOL_SIZE, WAIT_MS), read: new PoolGate(2, WAIT_MS) };
  const partitions = new Partitions(writeSql);
  const writer = createGroupCommitWriter(writeSql, partitions, {
    maxQueued: 1_000,
    maxFlush: 100,
    flushConcurrency: 2,
    gate: gates.write,
  });
  const app = createApp({
    sql: writeSql,
    db: database.db,
    readSql: options.analyticsSql ?? readSql,
    primaryReadSql: readSql,
    gates,
    adminStatementTimeoutMs: options.adminStatementTimeoutMs,
    writer,
    partitions,
    now: () => DEFAULT_NOW,
    onUnexpectedError: (error) => unexpected.push(error),
  });
  return { app, gates, writer };
}

/**
 * Takes every permit of `gate`, each with a real connection of `sql` reserved, as slow
 * uploads or long reads would; answers how to give them back.
 */
async function holdAll(gate: PoolGate, sql: Sql, count: number) {
  let letGo = () => {};
  const released = new Promise<void>((resolve) => {
    letGo = resolve;
  });
  const held: Promise<void>[] = [];
  let reserved = 0;
  for (let i = 0; i < count; i++) {
    held.push(
      gate.run(async () => {
        const connection = await sql.reserve();
        reserved++;
        await released;
        connection.release();
      }),
    );
  }
  await eventually(() => reserved === count);
  return async () => {
    letGo();
    await Promise.all(held);
  };
}

async function eventually(condition: () => boolean, ms = 5_000) {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function storedMeters(meterId: string) {
  const [row] = await database.sql`select count(*)::int as count from meter_telemetry where meter_id = ${meterId}`;
  return row?.count as number;
}

describe("waiting for a connection", () => {
  it("answers 503 database_busy with Retry-After within the bound when the write pool is held, writing nothing", async () => {
    const { app, gates, writer } = wire();
    const release = await holdAll(gates.write, writeSql, POOL_SIZE);
    const single = meterReading();
    const batched = meterReading();
    const started = performance.now();
    const [singleAnswer, batchAnswer] = await Promise.all([
      postJson(app, "/v1/telemetry/meter", single),
      postJson(app, "/v1/telemetry/batch", { meters: [batched], vehicles: [] }),
    ]);
    const elapsed = performance.now() - started;
    await release();

    for (const answer of [singleAnswer, batchAnswer]) {
      expect(answer.status).toBe(503);
      expect(answer.body.error.code).toBe("database_busy");
      expect(answer.headers.get("retry-after")).toBe("1");
    }
    expect(elapsed).toBeGreaterThanOrEqual(WAIT_MS - 5);
    expect(elapsed).toBeLessThan(WAIT_MS + 4_000);
    expect(await storedMeters(single.meterId)).toBe(0);
    expect(await storedMeters(batched.meterId)).toBe(0);

    // Once the pool is free again the same reading is taken.
    expect((await postJson(app, "/v1/telemetry/meter", single)).status).toBe(201);
    await writer.close();
  });

  it("answers over a real socket rather than leaving the client without an answer", async () => {
    const { app, gates, writer } = wire();
    const server = Bun.serve({ port: 0, fetch: (request) => app.fetch(request) });
    const release = await holdAll(gates.write, writeSql, POOL_SIZE);
    try {
      const response = await fetch(new URL("/v1/telemetry/meter", server.url), {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(meterReading()),
      });
      expect(response.status).toBe(503);
      expect(response.headers.get("retry-after")).toBe("1");
      expect((await response.json()).error.code).toBe("database_busy");
    } finally {
      await release();
      await server.stop(true);
      await writer.close();
    }
  });

  it("keeps writes going while every read connection is busy", async () => {
    const { app, gates, writer } = wire();
    const release = await holdAll(gates.read, readSql, 2);
    try {
      const reading = vehicleReading();
      // A write waiting on the read gate would get 503 database_busy after WAIT_MS: a 201 says it never did.
      expect((await postJson(app, "/v1/telemetry/vehicle", reading)).status).toBe(201);
      expect((await postJson(app, "/v1/telemetry/batch", { meters: [meterReading()], vehicles: [] })).status).toBe(201);

      // Reads wait their bound and are told to retry, in the one error shape.
      const state = await getJson(app, `/v1/vehicles/${reading.vehicleId}/state`);
      expect(state.status).toBe(503);
      expect(state.body.error.code).toBe("database_busy");
      const fleet = await getJson(app, "/v1/analytics/fleet");
      expect(fleet.status).toBe(503);
      expect(fleet.headers.get("retry-after")).toBe("1");
    } finally {
      await release();
    }
    expect((await getJson(app, "/v1/analytics/fleet")).status).toBe(200);
    await writer.close();
  });
});

/** Holds an exclusive lock on `tables` from a connection of its own until released. */
async function lockTables(tables: string[]) {
  const locker = createSql({ url: database.url, poolSize: 1, connectTimeoutSeconds: 10 });
  const connection = await locker.reserve();
  await connection`begin`;
  for (const table of tables) await connection`lock table ${connection(table)} in access exclusive mode`;
  return async () => {
    await connection`rollback`;
    connection.release();
    await locker.end({ timeout: 5 });
  };
}

describe("statement timeouts", () => {
  it("answers a slow analytics query 503 query_timeout, not 500", async () => {
    const analyticsSql = createSql({
      url: database.url,
      poolSize: 2,
      connectTimeoutSeconds: 10,
      statementTimeoutMs: 200,
    });
    const { app, writer } = wire({ analyticsSql });
    const reading = vehicleReading();
    expect((await postJson(app, "/v1/telemetry/vehicle", reading)).status).toBe(201);
    const unlock = await lockTables(["vehicle_state", "vehicle_telemetry", "vehicle_hourly", "vehicle_daily"]);
    try {
      const started = performance.now();
      const answer = await getJson(app, `/v1/analytics/performance/${reading.vehicleId}`);
      expect(answer.status).toBe(503);
      expect(answer.body.error.code).toBe("query_timeout");
      expect(answer.headers.get("retry-after")).toBe("5");
      expect(performance.now() - started).toBeLessThan(5_000);
    } finally {
      await unlock();
      await analyticsSql.end({ timeout: 5 });
      await writer.close();
    }
  });

  it("holds GET /v1/admin/stats to its own timeout", async () => {
    const { app, writer } = wire({ adminStatementTimeoutMs: 200 });
    expect((await getJson(app, "/v1/admin/stats")).status).toBe(200);
    const unlock = await lockTables(["meter_state"]);
    try {
      const answer = await getJson(app, "/v1/admin/stats");
      expect(answer.status).toBe(503);
      expect(answer.body.error.code).toBe("query_timeout");
    } finally {
      await unlock();
      await writer.close();
    }
    // The timeout was the transaction's own: the pool's connections keep no limit.
    const [row] = await readSql`show statement_timeout`;
    expect(row?.statement_timeout).toBe("0");
  });

  it("leaves the analytics of a quick query alone", async () => {
    const analyticsSql = createSql({
      url: database.url,
      poolSize: 2,
      connectTimeoutSeconds: 10,
      statementTimeoutMs: 5_000,
    });
    const { app, writer } = wire({ analyticsSql });
    const reading = vehicleReading({ vehicleId: newId() });
    expect((await postJson(app, "/v1/telemetry/vehicle", reading)).status).toBe(201);
    expect((await getJson(app, `/v1/analytics/performance/${reading.vehicleId}`)).status).toBe(200);
    const [row] = await analyticsSql`show statement_timeout`;
    expect(row?.statement_timeout).toBe("5s");
    await analyticsSql.end({ timeout: 5 });
    await writer.close();
  });
});
