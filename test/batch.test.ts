// POST /v1/telemetry/batch with a JSON body: counts, duplicates, newest state, whole-batch refusal, limits.
import { describe, expect, it } from "bun:test";
import { useTestApp } from "./support/database.ts";
import { getJson, meterReading, newId, postJson, vehicleReading } from "./support/http.ts";
import { expectDocumented } from "./support/openapi.ts";

// Back to 2022: a leap day and a whole year of months, within the backfill bound.
const t = useTestApp({ limits: { maxBatchReadings: 50, backfillMaxMonths: 48 } });

const countRows = async (table: "meter_telemetry" | "vehicle_telemetry", ids: string[]) => {
  const column = table === "meter_telemetry" ? "meter_id" : "vehicle_id";
  const [row] = await t.database.sql<{ count: number }[]>`
    select count(*)::int as count from ${t.database.sql(table)} where ${t.database.sql(column)} in ${t.database.sql(ids)}
  `;
  return row?.count ?? -1;
};

describe("POST /v1/telemetry/batch", () => {
  it("stores meters and vehicles together and answers the counts", async () => {
    const meters = [meterReading(), meterReading({ timestamp: "2025-12-31T23:59:59Z" })];
    const vehicles = [vehicleReading(), vehicleReading(), vehicleReading({ timestamp: "2024-02-29T12:00:00Z" })];
    const response = await postJson(t.app, "/v1/telemetry/batch", { meters, vehicles });
    await expectDocumented(response);
    expect(response.status).toBe(201);
    expect(response.body).toEqual({ status: "stored", stored: 5, duplicates: 0 });
    expect(
      await countRows(
        "meter_telemetry",
        meters.map((m) => m.meterId),
      ),
    ).toBe(2);
    expect(
      await countRows(
        "vehicle_telemetry",
        vehicles.map((v) => v.vehicleId),
      ),
    ).toBe(3);
  });

  it("counts replays and repeats within the batch as duplicates, storing each reading once", async () => {
    const first = meterReading();
    await postJson(t.app, "/v1/telemetry/meter", first);
    const fresh = meterReading();
    const response = await postJson(t.app, "/v1/telemetry/batch", { meters: [first, fresh, fresh, { ...fresh }] });
    await expectDocumented(response);
    expect(response.status).toBe(201);
    expect(response.body).toEqual({ status: "stored", stored: 1, duplicates: 3 });
    expect(await countRows("meter_telemetry", [first.meterId, fresh.meterId])).toBe(2);
  });

  it("answers 200 when every reading was already stored", async () => {
    const meters = [meterReading()];
    await postJson(t.app, "/v1/telemetry/batch", { meters });
    const replay = await postJson(t.app, "/v1/telemetry/batch", { meters });
    await expectDocumented(replay);
    expect(replay.status).toBe(200);
    expect(replay.body).toEqual({ status: "stored", stored: 0, duplicates: 1 });
  });

  it("sets each device's state from its newest reading, whatever the order in the batch", async () => {
    const vehicleId = newId();
    const vehicles = [
      vehicleReading({ vehicleId, soc: 60, timestamp: "2026-03-15T11:02:00Z" }),
      vehicleReading({ vehicleId, soc: 70, timestamp: "2026-03-15T11:03:00Z" }),
      vehicleReading({ vehicleId, soc: 50, timestamp: "2026-03-15T11:01:00Z" }),
    ];
    await postJson(t.app, "/v1/telemetry/batch", { vehicles });
    const state = await getJson(t.app, `/v1/vehicles/${vehicleId}/state`);
    await expectDocumented(state);
    expect(state.body).toMatchObject({ soc: 70, lastUpdated: "2026-03-15T11:03:00.000Z" });
  });

  it("refuses the whole batch when one item is bad, listing every bad item by index and field", async () => {
    const meters = [meterReading(), meterReading({ voltage: -1 }), meterReading()];
    const vehicles = [vehicleReading(), vehicleReading(), vehicleReading({ soc: 101, timestamp: "soon" })];
    const response = await postJson(t.app, "/v1/telemetry/batch", { meters, vehicles });
    await expectDocumented(response);
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe("validation_failed");
    expect(response.body.error.details).toEqual([
      { field: "meters[1].voltage", message: "must be at least 0" },
      { field: "vehicles[2].soc", message: "must be at most 100" },
      {
        field: "vehicles[2].timestamp",
        message: "must be an ISO-8601 date-time with a zone, e.g. 2026-02-09T14:00:00Z",
      },
    ]);
    expect(
      await countRows(
        "meter_telemetry",
        meters.map((m) => m.meterId),
      ),
    ).toBe(0);
    expect(
      await countRows(
        "vehicle_telemetry",
        vehicles.map((v) => v.vehicleId),
      ),
    ).toBe(0);
  });

  it("refuses an empty batch and one over the size limit", async () => {
    const empty = await postJson(t.app, "/v1/telemetry/batch", { meters: [], vehicles: [] });
    await expectDocumented(empty);
    expect(empty.status).toBe(400);
    expect(empty.body.error.message).toContain("at least one reading");
    const tooMany = await postJson(t.app, "/v1/telemetry/batch", {
      meters: Array.from({ length: 30 }, () => meterReading()),
      vehicles: Array.from({ length: 21 }, () => vehicleReading()),
    });
    await expectDocumented(tooMany);
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.error.message).toContain("at most 50 readings");
  });

  it("refuses lists that are not arrays", async () => {
    const response = await postJson(t.app, "/v1/telemetry/batch", { meters: meterReading() });
    await expectDocumented(response);
    expect(response.status).toBe(400);
    expect(response.body.error.details[0].field).toBe("meters");
  });

  it("writes a batch spanning many months, creating each partition", async () => {
    const meterId = newId();
    const meters = Array.from({ length: 12 }, (_, month) =>
      meterReading({ meterId, timestamp: new Date(Date.UTC(2023, month, 15)).toISOString() }),
    );
    const response = await postJson(t.app, "/v1/telemetry/batch", { meters });
    await expectDocumented(response);
    expect(response.body.stored).toBe(12);
    const partitions = await t.database.sql`
      select distinct tableoid::regclass::text as name from meter_telemetry where meter_id = ${meterId}
    `;
    expect(partitions).toHaveLength(12);
  });
});
