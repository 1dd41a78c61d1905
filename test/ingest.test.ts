// POST /v1/telemetry/meter and /vehicle: storing, replays, newest-wins hot state, timestamps and partitions.
import { describe, expect, it } from "bun:test";
import { useTestApp } from "./support/database.ts";
import { getJson, meterReading, newId, postJson, vehicleReading } from "./support/http.ts";
import { expectDocumented } from "./support/openapi.ts";

const t = useTestApp();

const coldMeterRows = async (meterId: string) => [
  ...(await t.database.sql`
    select kwh_consumed_ac, voltage, recorded_at::text from meter_telemetry where meter_id = ${meterId}
  `),
];
const coldVehicleRows = async (vehicleId: string) => [
  ...(await t.database.sql`
    select soc, kwh_delivered_dc, battery_temp from vehicle_telemetry where vehicle_id = ${vehicleId}
  `),
];

describe("POST /v1/telemetry/meter", () => {
  it("stores a new reading in both stores and answers 201 stored", async () => {
    const reading = meterReading({ kwhConsumedAc: 50.5, voltage: 230.25 });
    const response = await postJson(t.app, "/v1/telemetry/meter", reading);
    await expectDocumented(response);
    expect(response.status).toBe(201);
    expect(response.body).toEqual({ status: "stored" });
    expect(await coldMeterRows(reading.meterId)).toEqual([
      { kwh_consumed_ac: 50.5, voltage: 230.25, recorded_at: "2026-03-15 11:00:00+00" },
    ]);
    const state = await getJson(t.app, `/v1/meters/${reading.meterId}/state`);
    await expectDocumented(state);
    expect(state.status).toBe(200);
    expect(state.body).toEqual({
      meterId: reading.meterId,
      name: null,
      kwhConsumedAc: 50.5,
      voltage: 230.25,
      lastUpdated: "2026-03-15T11:00:00.000Z",
    });
  });

  it("stores a replay once and answers 200 duplicate", async () => {
    const reading = meterReading();
    expect((await postJson(t.app, "/v1/telemetry/meter", reading)).status).toBe(201);
    const replay = await postJson(t.app, "/v1/telemetry/meter", reading);
    await expectDocumented(replay);
    expect(replay.status).toBe(200);
    expect(replay.body).toEqual({ status: "duplicate" });
    expect(await coldMeterRows(reading.meterId)).toHaveLength(1);
  });

  it("treats the same instant written with another zone offset as a replay", async () => {
    const reading = meterReading({ timestamp: "2026-03-15T11:00:00Z" });
    await postJson(t.app, "/v1/telemetry/meter", reading);
    const replay = await postJson(t.app, "/v1/telemetry/meter", { ...reading, timestamp: "2026-03-15T13:00:00+02:00" });
    await expectDocumented(replay);
    expect(replay.status).toBe(200);
    expect(replay.body.status).toBe("duplicate");
  });

  it("lowercases device ids so one device is one device", async () => {
    const reading = meterReading();
    await postJson(t.app, "/v1/telemetry/meter", reading);
    const replay = await postJson(t.app, "/v1/telemetry/meter", { ...reading, meterId: reading.meterId.toUpperCase() });
    await expectDocumented(replay);
    expect(replay.body.status).toBe("duplicate");
  });
});

describe("POST /v1/telemetry/vehicle", () => {
  it("stores a new reading in both stores and answers 201 stored", async () => {
    const reading = vehicleReading({ soc: 75.5, kwhDeliveredDc: 40.3, batteryTemp: -5.25 });
    const response = await postJson(t.app, "/v1/telemetry/vehicle", reading);
    await expectDocumented(response);
    expect(response.status).toBe(201);
    expect(response.body).toEqual({ status: "stored" });
    expect(await coldVehicleRows(reading.vehicleId)).toEqual([
      { soc: 75.5, kwh_delivered_dc: 40.3, battery_temp: -5.25 },
    ]);
    const state = await getJson(t.app, `/v1/vehicles/${reading.vehicleId}/state`);
    await expectDocumented(state);
    expect(state.status).toBe(200);
    expect(state.body).toEqual({
      vehicleId: reading.vehicleId,
      name: null,
      soc: 75.5,
      kwhDeliveredDc: 40.3,
      batteryTemp: -5.25,
      lastUpdated: "2026-03-15T11:00:00.000Z",
    });
  });

  it("stores a replay once and answers 200 duplicate", async () => {
    const reading = vehicleReading();
    await postJson(t.app, "/v1/telemetry/vehicle", reading);
    const replay = await postJson(t.app, "/v1/telemetry/vehicle", { ...reading, soc: 99 });
    await expectDocumented(replay);
    expect(replay.status).toBe(200);
    expect(replay.body).toEqual({ status: "duplicate" });
    expect(await coldVehicleRows(reading.vehicleId)).toEqual([{ soc: 50, kwh_delivered_dc: 1.3, battery_temp: 25 }]);
  });
});

describe("newest wins in the hot store", () => {
  it("keeps history of a late reading but not its state", async () => {
    const vehicleId = newId();
    await postJson(
      t.app,
      "/v1/telemetry/vehicle",
      vehicleReading({ vehicleId, soc: 80, timestamp: "2026-03-15T11:05:00Z" }),
    );
    const late = await postJson(
      t.app,
      "/v1/telemetry/vehicle",
      vehicleReading({ vehicleId, soc: 20, timestamp: "2026-03-15T11:00:00Z" }),
    );
    await expectDocumented(late);
    expect(late.status).toBe(201);
    expect(await coldVehicleRows(vehicleId)).toHaveLength(2);
    const state = await getJson(t.app, `/v1/vehicles/${vehicleId}/state`);
    await expectDocumented(state);
    expect(state.body.soc).toBe(80);
    expect(state.body.lastUpdated).toBe("2026-03-15T11:05:00.000Z");
  });

  it("moves state forward for a newer reading", async () => {
    const meterId = newId();
    await postJson(
      t.app,
      "/v1/telemetry/meter",
      meterReading({ meterId, voltage: 229, timestamp: "2026-03-15T11:00:00Z" }),
    );
    await postJson(
      t.app,
      "/v1/telemetry/meter",
      meterReading({ meterId, voltage: 231, timestamp: "2026-03-15T11:01:00Z" }),
    );
    const state = await getJson(t.app, `/v1/meters/${meterId}/state`);
    await expectDocumented(state);
    expect(state.body.voltage).toBe(231);
  });
});

describe("timestamps and partitions", () => {
  it("stores the seed design's example dated 2026-02-09 and answers analytics for it", async () => {
    const meterId = newId();
    const vehicleId = newId();
    const meter = { meterId, kwhConsumedAc: 50.5, voltage: 230, timestamp: "2026-02-09T14:00:00Z" };
    const vehicle = {
      vehicleId,
      soc: 75.5,
      kwhDeliveredDc: 40.3,
      batteryTemp: 25.5,
      timestamp: "2026-02-09T14:00:00Z",
    };
    expect((await postJson(t.app, "/v1/telemetry/meter", meter)).status).toBe(201);
    expect((await postJson(t.app, "/v1/telemetry/vehicle", vehicle)).status).toBe(201);
    expect((await postJson(t.app, "/v1/mappings", { vehicleId, meterId })).status).toBe(201);
    const performance = await getJson(
      t.app,
      `/v1/analytics/performance/${vehicleId}?from=2026-02-09T00:00:00Z&to=2026-02-10T00:00:00Z`,
    );
    await expectDocumented(performance);
    expect(performance.status).toBe(200);
    expect(performance.body).toMatchObject({
      totalAcConsumption: 50.5,
      totalDcDelivery: 40.3,
      efficiencyRatio: 0.798,
      avgBatteryTemp: 25.5,
      dataPoints: 1,
    });
  });

  it("backfills into an old month by creating its partition on demand", async () => {
    // As far back as the default bound goes (BACKFILL_MAX_MONTHS, 24 months before 2026-03).
    const reading = meterReading({ timestamp: "2024-03-01T01:00:00+01:00" });
    const response = await postJson(t.app, "/v1/telemetry/meter", reading);
    await expectDocumented(response);
    expect(response.status).toBe(201);
    const [row] = await t.database.sql`
      select tableoid::regclass::text as partition from meter_telemetry where meter_id = ${reading.meterId}
    `;
    expect(row?.partition).toBe("meter_telemetry_y2024m03");
  });

  it("files a reading by its UTC month, whatever offset it was written with", async () => {
    const reading = vehicleReading({ timestamp: "2026-03-01T01:30:00+03:00" });
    expect((await postJson(t.app, "/v1/telemetry/vehicle", reading)).status).toBe(201);
    const [row] = await t.database.sql`
      select tableoid::regclass::text as partition from vehicle_telemetry where vehicle_id = ${reading.vehicleId}
    `;
    expect(row?.partition).toBe("vehicle_telemetry_y2026m02");
  });

  it("accepts a reading up to 5 minutes ahead of the server clock and refuses one beyond", async () => {
    const ahead = await postJson(t.app, "/v1/telemetry/meter", meterReading({ timestamp: "2026-03-15T12:05:00Z" }));
    await expectDocumented(ahead);
    expect(ahead.status).toBe(201);
    const tooFar = meterReading({ timestamp: "2026-03-15T12:05:00.001Z" });
    const refused = await postJson(t.app, "/v1/telemetry/meter", tooFar);
    await expectDocumented(refused);
    expect(refused.status).toBe(400);
    expect(refused.body.error.details).toEqual([
      { field: "timestamp", message: "must not be more than 300 s ahead of the server clock" },
    ]);
    expect(await coldMeterRows(tooFar.meterId)).toHaveLength(0);
  });

  it("keeps millisecond precision and treats finer digits as the same instant", async () => {
    const reading = meterReading({ timestamp: "2026-03-15T11:00:00.123456Z" });
    expect((await postJson(t.app, "/v1/telemetry/meter", reading)).status).toBe(201);
    const replay = await postJson(t.app, "/v1/telemetry/meter", { ...reading, timestamp: "2026-03-15T11:00:00.123Z" });
    await expectDocumented(replay);
    expect(replay.body.status).toBe("duplicate");
  });
});
