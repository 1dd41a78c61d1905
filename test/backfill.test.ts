// How far back readings may go, and how their months' partitions are made: before the
// insert, each month in a short transaction of its own under lock_timeout, so readers of
// the parent tables never wait behind an upload.
import { describe, expect, it } from "bun:test";
import { useTestApp } from "./support/database.ts";
import { type JsonResponse, meterReading, newId, postJson, vehicleReading } from "./support/http.ts";
import { expectDocumented } from "./support/openapi.ts";

// The default bound, 24 months: from DEFAULT_NOW (2026-03-15) back to 2024-03-01.
const t = useTestApp();

async function upload(body: string): Promise<JsonResponse> {
  const response = await t.app.request("/v1/telemetry/batch", {
    method: "POST",
    headers: { "content-type": "application/x-ndjson" },
    body,
  });
  const answer = {
    status: response.status,
    headers: response.headers,
    body: await response.json(),
    request: { method: "POST", path: "/v1/telemetry/batch" },
  };
  return expectDocumented(answer);
}

const ndjsonLine = (reading: object, type: "meter" | "vehicle") => JSON.stringify({ type, ...reading });

async function rowsOf(ids: string[]) {
  const sql = t.database.sql;
  const [row] = await sql`
    select (select count(*) from meter_telemetry where meter_id in ${sql(ids)})::int
         + (select count(*) from vehicle_telemetry where vehicle_id in ${sql(ids)})::int as count
  `;
  return row?.count as number;
}

async function partitionExists(name: string) {
  const [row] = await t.database.sql`select to_regclass(${name}) is not null as exists`;
  return row?.exists as boolean;
}

const BEFORE_BOUND = "2024-02-29T23:59:59Z";

describe("the backfill bound", () => {
  it("refuses a reading more than 24 months back with a 400 naming timestamp, making no partition", async () => {
    const reading = meterReading({ timestamp: BEFORE_BOUND });
    const response = await expectDocumented(await postJson(t.app, "/v1/telemetry/meter", reading));
    expect(response.status).toBe(400);
    expect(response.body.error.details).toEqual([
      {
        field: "timestamp",
        message: "must not be before 2024-03-01T00:00:00.000Z: readings more than 24 months back are refused",
      },
    ]);
    expect(await rowsOf([reading.meterId])).toBe(0);
    expect(await partitionExists("meter_telemetry_y2024m02")).toBe(false);
  });

  it("lists every reading of a batch past the bound by index, and writes none of the batch", async () => {
    const meters = [meterReading(), meterReading({ timestamp: "2001-06-15T00:00:00Z" }), meterReading()];
    const vehicles = [vehicleReading({ timestamp: BEFORE_BOUND })];
    const response = await expectDocumented(await postJson(t.app, "/v1/telemetry/batch", { meters, vehicles }));
    expect(response.status).toBe(400);
    expect(response.body.error.details.map((d: { field: string }) => d.field)).toEqual([
      "meters[1].timestamp",
      "vehicles[0].timestamp",
    ]);
    expect(await rowsOf([...meters.map((m) => m.meterId), vehicles[0]?.vehicleId as string])).toBe(0);
    expect(await partitionExists("meter_telemetry_y2001m06")).toBe(false);
  });

  it("refuses an upload with a line past the bound, naming the line, and writes none of it", async () => {
    const good = meterReading();
    const old = vehicleReading({ timestamp: "2010-01-01T00:00:00Z" });
    const response = await upload(`${ndjsonLine(good, "meter")}\n${ndjsonLine(old, "vehicle")}\n`);
    expect(response.status).toBe(400);
    expect(response.body.error.details).toEqual([
      { line: 2, field: "timestamp", message: expect.stringContaining("24 months back") },
    ]);
    expect(await rowsOf([good.meterId, old.vehicleId])).toBe(0);
  });

  it("takes a reading at the bound itself", async () => {
    const reading = vehicleReading({ timestamp: "2024-03-01T00:00:00Z" });
    expect((await postJson(t.app, "/v1/telemetry/vehicle", reading)).status).toBe(201);
  });
});

describe("making partitions", () => {
  it("answers 503 partition_busy within the lock timeout while a reader holds the parent, writing nothing", async () => {
    // A long reader of each parent table: creating a partition must wait for it.
    const reader = await t.database.sql.reserve();
    const meter = meterReading({ timestamp: "2025-01-10T00:00:00Z" });
    const vehicle = vehicleReading({ timestamp: "2025-02-10T00:00:00Z" });
    const streamed = meterReading({ timestamp: "2025-03-10T00:00:00Z" });
    try {
      await reader`begin`;
      await reader`lock table meter_telemetry, vehicle_telemetry in access share mode`;
      const started = performance.now();
      const answers = await Promise.all([
        postJson(t.app, "/v1/telemetry/meter", meter),
        postJson(t.app, "/v1/telemetry/batch", { vehicles: [vehicle] }),
        upload(`${ndjsonLine(streamed, "meter")}\n`),
      ]);
      const elapsedMs = performance.now() - started;
      for (const answer of answers) {
        await expectDocumented(answer);
        expect(answer.status).toBe(503);
        expect(answer.body.error.code).toBe("partition_busy");
        expect(answer.headers.get("retry-after")).toBe("2");
      }
      // The default lock timeout is 1 s; without one they would wait for the reader.
      expect(elapsedMs).toBeLessThan(3_000);
    } finally {
      await reader`rollback`;
      reader.release();
    }
    expect(await rowsOf([meter.meterId, vehicle.vehicleId, streamed.meterId])).toBe(0);
    for (const name of ["meter_telemetry_y2025m01", "vehicle_telemetry_y2025m02", "meter_telemetry_y2025m03"]) {
      expect(await partitionExists(name)).toBe(false);
    }

    // Retried once the reader is gone, all three are stored.
    expect((await postJson(t.app, "/v1/telemetry/meter", meter)).status).toBe(201);
    expect((await postJson(t.app, "/v1/telemetry/batch", { vehicles: [vehicle] })).status).toBe(201);
    expect((await upload(`${ndjsonLine(streamed, "meter")}\n`)).status).toBe(201);
    expect(await rowsOf([meter.meterId, vehicle.vehicleId, streamed.meterId])).toBe(3);
  }, 20_000);

  it("makes an upload's new month before its insert, so readers need not wait for the insert", async () => {
    const meterIds = Array.from({ length: 50 }, () => newId());
    const lines: string[] = [];
    for (let i = 0; i < 60_000; i++) {
      const timestamp = new Date(Date.UTC(2025, 4, 1) + Math.floor(i / 50) * 60_000).toISOString();
      lines.push(ndjsonLine({ meterId: meterIds[i % 50], kwhConsumedAc: 0.5, voltage: 230, timestamp }, "meter"));
    }
    const answer = upload(lines.join("\n"));

    // Wait until the upload's dual write is running, then read the parent as a report would.
    const probe = await t.database.sql.reserve();
    try {
      const deadline = Date.now() + 30_000;
      let isInserting = false;
      while (!isInserting && Date.now() < deadline) {
        const [row] = await probe`
          select count(*)::int as count from pg_stat_activity
          where datname = current_database() and pid <> pg_backend_pid() and state = 'active'
            and query like '%from staged_readings where kind%'
        `;
        isInserting = row?.count > 0;
      }
      expect(isInserting).toBe(true);
      await probe`begin`;
      await probe`set local lock_timeout = '500ms'`;
      await probe`lock table meter_telemetry, meter_hourly, meter_daily in access share mode`;
      await probe`commit`;
    } finally {
      probe.release();
    }
    expect((await answer).status).toBe(201);
    expect(await rowsOf(meterIds)).toBe(60_000);
  }, 60_000);
});
