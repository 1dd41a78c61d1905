// The analytics views: charting series, fleet view, data-quality flags, links that move, and replica reads.
import { describe, expect, it } from "bun:test";
import { createApp } from "../src/app.ts";
import { createTestDatabase, DEFAULT_NOW, useTestApp } from "./support/database.ts";
import { getJson, newId, postJson } from "./support/http.ts";
import { expectDocumented } from "./support/openapi.ts";

const t = useTestApp();

const vehicle = (vehicleId: string, timestamp: string, kwhDeliveredDc: number, batteryTemp = 25, soc = 50) => ({
  vehicleId,
  timestamp,
  kwhDeliveredDc,
  batteryTemp,
  soc,
});
const meter = (meterId: string, timestamp: string, kwhConsumedAc: number) => ({
  meterId,
  timestamp,
  kwhConsumedAc,
  voltage: 230,
});
const send = async (body: object) => expect((await postJson(t.app, "/v1/telemetry/batch", body)).status).toBe(201);

describe("GET /v1/analytics/vehicles/:vehicleId/series", () => {
  it("answers every hour of the window, widened to whole hours, empty ones as zeros", async () => {
    const [vehicleId, meterId] = [newId(), newId()];
    await postJson(t.app, "/v1/mappings", { vehicleId, meterId });
    await send({
      vehicles: [
        vehicle(vehicleId, "2026-03-10T10:05:00Z", 9, 30, 40),
        vehicle(vehicleId, "2026-03-10T10:50:00Z", 9, 34, 45),
        vehicle(vehicleId, "2026-03-10T12:00:00Z", 1, 20, 46),
      ],
      meters: [meter(meterId, "2026-03-10T10:10:00Z", 10), meter(meterId, "2026-03-10T10:40:00Z", 10)],
    });
    const response = await getJson(
      t.app,
      `/v1/analytics/vehicles/${vehicleId}/series?bucket=hour&from=2026-03-10T10:30:00Z&to=2026-03-10T12:10:00Z`,
    );
    await expectDocumented(response);
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      bucket: "hour",
      from: "2026-03-10T10:00:00.000Z",
      to: "2026-03-10T13:00:00.000Z",
    });
    expect(response.body.points).toEqual([
      {
        start: "2026-03-10T10:00:00.000Z",
        totalAcConsumption: 20,
        totalDcDelivery: 18,
        efficiencyRatio: 0.9,
        avgBatteryTemp: 32,
        maxBatteryTemp: 34,
        socMin: 40,
        socMax: 45,
        dataPoints: 2,
      },
      {
        start: "2026-03-10T11:00:00.000Z",
        totalAcConsumption: 0,
        totalDcDelivery: 0,
        efficiencyRatio: null,
        avgBatteryTemp: null,
        maxBatteryTemp: null,
        socMin: null,
        socMax: null,
        dataPoints: 0,
      },
      expect.objectContaining({ start: "2026-03-10T12:00:00.000Z", totalDcDelivery: 1, dataPoints: 1 }),
    ]);
    const daily = await getJson(
      t.app,
      `/v1/analytics/vehicles/${vehicleId}/series?bucket=day&from=2026-03-10T10:00:00Z&to=2026-03-11T10:00:00Z`,
    );
    await expectDocumented(daily);
    expect(
      daily.body.points.map((p: { start: string; totalDcDelivery: number }) => [p.start, p.totalDcDelivery]),
    ).toEqual([
      ["2026-03-10T00:00:00.000Z", 19],
      ["2026-03-11T00:00:00.000Z", 0],
    ]);
  });

  it("refuses bad buckets and windows too long to chart, and unknown vehicles", async () => {
    const vehicleId = newId();
    await send({ vehicles: [vehicle(vehicleId, "2026-03-10T10:05:00Z", 1)] });
    for (const query of [
      "bucket=minute",
      "bucket=hour&from=2026-01-01T00:00:00Z&to=2026-03-10T00:00:00Z",
      "from=later",
    ]) {
      const response = await getJson(t.app, `/v1/analytics/vehicles/${vehicleId}/series?${query}`);
      await expectDocumented(response);
      expect(response.status).toBe(400);
    }
    expect((await getJson(t.app, `/v1/analytics/vehicles/${newId()}/series`)).status).toBe(404);
  });
});

describe("data-quality flags", () => {
  it("flags an efficiency above 1 without clamping it, DC without a meter, overheating and a shared meter", async () => {
    const [impossible, unmetered, shared1, shared2, sharedMeter, meterId] = [
      newId(),
      newId(),
      newId(),
      newId(),
      newId(),
      newId(),
    ];
    await postJson(t.app, "/v1/mappings", { vehicleId: impossible, meterId });
    await send({
      vehicles: [
        vehicle(impossible, "2026-03-10T10:00:00Z", 12, 75),
        vehicle(unmetered, "2026-03-10T10:00:00Z", 5),
        vehicle(shared1, "2026-03-10T10:00:00Z", 1),
      ],
      meters: [meter(meterId, "2026-03-10T10:00:00Z", 10), meter(sharedMeter, "2026-03-10T10:00:00Z", 2)],
    });
    // Links from before this service's intervals: both active over all history at once.
    await t.database.sql`
      insert into vehicle_meter_mapping (vehicle_id, meter_id) values (${shared1}, ${sharedMeter}), (${shared2}, ${sharedMeter})
    `;
    const window = "from=2026-03-10T10:00:00Z&to=2026-03-10T11:00:00Z";
    const codes = async (vehicleId: string) =>
      (await getJson(t.app, `/v1/analytics/performance/${vehicleId}?${window}`)).body.quality.map(
        (f: { code: string }) => f.code,
      );
    const figures = (await getJson(t.app, `/v1/analytics/performance/${impossible}?${window}`)).body;
    expect(figures.efficiencyRatio).toBe(1.2);
    expect(await codes(impossible)).toEqual(["efficiency_above_one", "low_coverage", "battery_overheat"]);
    expect(await codes(unmetered)).toEqual(["dc_without_meter", "low_coverage"]);
    expect(await codes(shared1)).toEqual(["meter_shared", "low_coverage"]);
    // The fleet view flags the same, over an hour (hourly rollups) and over the day (daily ones).
    for (const fleetWindow of [window, "from=2026-03-10T00:00:00Z&to=2026-03-11T00:00:00Z"]) {
      const fleet = (await getJson(t.app, `/v1/analytics/fleet?${fleetWindow}&limit=500`)).body;
      const flagged = (vehicleId: string) =>
        fleet.needsAttention.vehicles
          .find((v: { vehicleId: string }) => v.vehicleId === vehicleId)
          ?.quality.map((f: { code: string }) => f.code);
      expect(flagged(impossible)).toContain("efficiency_above_one");
      expect(flagged(unmetered)).toContain("dc_without_meter");
      expect(flagged(shared1)).toContain("meter_shared");
    }
  });
});

describe("links that remember time", () => {
  it("counts a meter's AC toward each vehicle only while linked to it", async () => {
    const [first, second, meterId] = [newId(), newId(), newId()];
    await send({
      meters: [
        meter(meterId, "2026-03-10T09:00:00Z", 1),
        meter(meterId, "2026-03-10T10:29:00Z", 2),
        meter(meterId, "2026-03-10T10:31:00Z", 4),
        meter(meterId, "2026-03-10T12:00:00Z", 8),
      ],
      vehicles: [vehicle(first, "2026-03-10T09:00:00Z", 1), vehicle(second, "2026-03-10T12:00:00Z", 1)],
    });
    expect((await postJson(t.app, "/v1/mappings", { vehicleId: first, meterId })).body.linkedAt).toBeNull();
    const moved = await postJson(t.app, "/v1/mappings", {
      vehicleId: second,
      meterId,
      linkedAt: "2026-03-10T10:30:00Z",
    });
    await expectDocumented(moved);
    expect(moved.status).toBe(201);
    expect(moved.body).toMatchObject({ linkedAt: "2026-03-10T10:30:00.000Z", unlinkedAt: null, isActive: true });
    const window = "from=2026-03-10T00:00:00Z&to=2026-03-11T00:00:00Z";
    expect((await getJson(t.app, `/v1/analytics/performance/${first}?${window}`)).body.totalAcConsumption).toBe(3);
    expect((await getJson(t.app, `/v1/analytics/performance/${second}?${window}`)).body.totalAcConsumption).toBe(12);
    const history = await getJson(t.app, `/v1/mappings?meterId=${meterId}`);
    await expectDocumented(history);
    expect(
      history.body.mappings
        .map((m: { vehicleId: string; linkedAt: string; unlinkedAt: string }) => [
          m.vehicleId,
          m.linkedAt,
          m.unlinkedAt,
        ])
        .sort(),
    ).toEqual(
      [
        [first, null, "2026-03-10T10:30:00.000Z"],
        [second, "2026-03-10T10:30:00.000Z", null],
      ].sort(),
    );

    // A link that would overlap the meter's history is refused.
    const overlapping = await postJson(t.app, "/v1/mappings", {
      vehicleId: first,
      meterId,
      linkedAt: "2026-03-10T10:00:00Z",
    });
    await expectDocumented(overlapping);
    expect(overlapping.status).toBe(409);
    expect(overlapping.body.error.code).toBe("link_conflict");

    // Closing at a given instant; closing again changes nothing.
    const closed = await t.app.request(`/v1/mappings/${second}/${meterId}?unlinkedAt=2026-03-10T11:00:00Z`, {
      method: "DELETE",
    });
    expect(closed.status).toBe(200);
    expect((await getJson(t.app, `/v1/analytics/performance/${second}?${window}`)).body.totalAcConsumption).toBe(4);
    expect((await t.app.request(`/v1/mappings/${second}/${meterId}`, { method: "DELETE" })).status).toBe(200);
    const early = await t.app.request(`/v1/mappings/${first}/${meterId}?unlinkedAt=yesterday`, { method: "DELETE" });
    expect(early.status).toBe(400);
  });

  it("starts a re-link at the request time", async () => {
    const [vehicleId, meterId] = [newId(), newId()];
    await postJson(t.app, "/v1/mappings", { vehicleId, meterId });
    await t.app.request(`/v1/mappings/${vehicleId}/${meterId}?unlinkedAt=2026-03-01T00:00:00Z`, { method: "DELETE" });
    const relinked = await postJson(t.app, "/v1/mappings", { vehicleId, meterId });
    await expectDocumented(relinked);
    expect(relinked.status).toBe(201);
    expect(relinked.body.linkedAt).toBe(DEFAULT_NOW.toISOString());
  });
});

describe("GET /v1/analytics/fleet", () => {
  it("totals the fleet over whole hours, ranks vehicles and lists those needing attention", async () => {
    const sql = t.database.sql;
    const day = "/v1/analytics/fleet?from=2026-03-15T00:00:00Z&to=2026-03-16T00:00:00Z";
    await send({ vehicles: [vehicle(newId(), "2026-03-15T08:10:00Z", 1)] });
    expect((await getJson(t.app, day)).body.totals.vehicles).toBeGreaterThan(0);
    await sql`
      truncate vehicle_telemetry, meter_telemetry, vehicle_pending, meter_pending, vehicle_hourly, meter_hourly,
               vehicle_daily, meter_daily,
               vehicle_state, meter_state, vehicle_meter_mapping
    `;
    const ids = Array.from({ length: 4 }, () => ({ vehicleId: newId(), meterId: newId() }));
    for (const pair of ids) await postJson(t.app, "/v1/mappings", pair);
    // Efficiencies 0.8, 0.9, 0.95 and an impossible 1.1.
    const efficiencies = [0.8, 0.9, 0.95, 1.1];
    await send({
      meters: ids.map((pair) => meter(pair.meterId, "2026-03-15T08:10:00Z", 10)),
      vehicles: ids.map((pair, i) => vehicle(pair.vehicleId, "2026-03-15T08:10:00Z", 10 * (efficiencies[i] as number))),
    });
    const response = await getJson(
      t.app,
      "/v1/analytics/fleet?from=2026-03-15T08:30:00Z&to=2026-03-15T09:00:00Z&limit=2",
    );
    await expectDocumented(response);
    expect(response.status).toBe(200);
    const body = response.body;
    expect(body).toMatchObject({
      from: "2026-03-15T08:00:00.000Z",
      to: "2026-03-15T09:00:00.000Z",
      asOf: "2026-03-15T09:00:00.000Z",
    });
    // Each vehicle was first seen at 08:10: 50 readings expected of it, not 60.
    expect(body.totals).toEqual({
      vehicles: 4,
      totalAcConsumption: 40,
      totalDcDelivery: 37.5,
      efficiencyRatio: 0.9375,
      unpaired: { dcKwh: 0, vehicles: 0, acKwh: 0, meters: 0 },
      dataPoints: 4,
      expectedPoints: 200,
      expectedPointsPerVehicle: 60,
    });
    const counts = Object.fromEntries(
      body.efficiencyDistribution.map((b: { min: number; vehicles: number }) => [b.min, b.vehicles]),
    );
    expect(counts).toMatchObject({ 0.8: 1, 0.9: 1, 0.95: 1, 1: 1 });
    expect(body.leastEfficient.map((v: { efficiencyRatio: number }) => v.efficiencyRatio)).toEqual([0.8, 0.9, 0.95]);
    expect(body.mostEfficient.map((v: { efficiencyRatio: number }) => v.efficiencyRatio)).toEqual([0.95, 0.9, 0.8]);
    expect(body.needsAttention).toMatchObject({ total: 4, limit: 2, offset: 0 });
    expect(body.needsAttention.vehicles).toHaveLength(2);
    expect(body.needsAttention.vehicles[0].quality.map((f: { code: string }) => f.code)).toEqual([
      "efficiency_above_one",
      "low_coverage",
    ]);
    const next = await getJson(
      t.app,
      "/v1/analytics/fleet?from=2026-03-15T08:00:00Z&to=2026-03-15T09:00:00Z&limit=2&offset=2",
    );
    await expectDocumented(next);
    expect(next.body.needsAttention.vehicles).toHaveLength(2);
    // The whole day, from the daily rollups: the same totals, nothing kept from before the
    // truncation; readings are expected up to now (12:00), not to the day's end.
    expect((await getJson(t.app, day)).body.totals).toEqual({
      ...body.totals,
      expectedPoints: 4 * 230,
      expectedPointsPerVehicle: 720,
    });
    expect((await getJson(t.app, "/v1/analytics/fleet?from=2026-01-01T00:00:00Z&to=2026-03-01T00:00:00Z")).status).toBe(
      400,
    );
  });
});

describe("read replicas", () => {
  it("sends analytics to readSql and never writes there", async () => {
    const replica = await createTestDatabase();
    try {
      const app = createApp({
        sql: t.database.sql,
        db: t.database.db,
        readSql: replica.sql,
        writer: t.writer,
        now: () => DEFAULT_NOW,
      });
      const vehicleId = newId();
      expect((await postJson(app, "/v1/telemetry/vehicle", vehicle(vehicleId, "2026-03-15T11:00:00Z", 1))).status).toBe(
        201,
      );
      // The (empty) replica has not seen the vehicle; the primary has its state.
      expect((await getJson(app, `/v1/analytics/performance/${vehicleId}`)).status).toBe(404);
      expect((await getJson(app, `/v1/vehicles/${vehicleId}/state`)).status).toBe(200);
      const [row] = await replica.sql`select count(*)::int as count from vehicle_telemetry`;
      expect(row?.count).toBe(0);
    } finally {
      await replica.drop();
    }
  });
});
