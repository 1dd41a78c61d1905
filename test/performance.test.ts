// GET /v1/analytics/performance/:vehicleId: exact half-open window sums, edge cases, bad windows, pruning.
import { describe, expect, it } from "bun:test";
import { energyQuery } from "../src/analytics/energy.ts";
import { useTestApp } from "./support/database.ts";
import { getJson, newId, postJson } from "./support/http.ts";
import { expectDocumented } from "./support/openapi.ts";

const t = useTestApp();

const DAY = "from=2026-03-10T00:00:00Z&to=2026-03-11T00:00:00Z";

async function send(vehicles: [string, string, number, number][], meters: [string, string, number][]) {
  const response = await postJson(t.app, "/v1/telemetry/batch", {
    vehicles: vehicles.map(([vehicleId, timestamp, kwhDeliveredDc, batteryTemp]) => ({
      vehicleId,
      timestamp,
      kwhDeliveredDc,
      batteryTemp,
      soc: 50,
    })),
    meters: meters.map(([meterId, timestamp, kwhConsumedAc]) => ({ meterId, timestamp, kwhConsumedAc, voltage: 230 })),
  });
  await expectDocumented(response);
  expect(response.status).toBe(201);
}

describe("GET /v1/analytics/performance/:vehicleId", () => {
  it("matches a hand-computed day: active meters only, half-open window", async () => {
    const [vehicleId, m1, m2, retired, unmapped] = [newId(), newId(), newId(), newId(), newId()];
    await send(
      [
        [vehicleId, "2026-03-09T23:59:59Z", 100, 90], // before the window
        [vehicleId, "2026-03-10T00:00:00Z", 10.5, 20], // at `from`: inside
        [vehicleId, "2026-03-10T06:00:00Z", 20.25, 30],
        [vehicleId, "2026-03-10T23:59:59.999Z", 5.125, 25.5],
        [vehicleId, "2026-03-11T00:00:00Z", 1000, 99], // at `to`: outside
      ],
      [
        [m1, "2026-03-10T01:00:00Z", 20],
        [m1, "2026-03-10T12:00:00Z", 15.5],
        [m1, "2026-03-11T00:00:00Z", 500],
        [m2, "2026-03-10T05:00:00+02:00", 5.25],
        [retired, "2026-03-10T05:00:00Z", 300],
        [unmapped, "2026-03-10T05:00:00Z", 400],
      ],
    );
    // Linked after the data arrived: a first link covers the meter's whole history.
    for (const meterId of [m1, m2, retired]) await postJson(t.app, "/v1/mappings", { vehicleId, meterId });
    // The retired meter's link ended before the window: its readings there are not the vehicle's.
    const unlinked = await t.app.request(`/v1/mappings/${vehicleId}/${retired}?unlinkedAt=2026-03-09T00:00:00Z`, {
      method: "DELETE",
    });
    expect(unlinked.status).toBe(200);

    const response = await getJson(t.app, `/v1/analytics/performance/${vehicleId}?${DAY}`);
    await expectDocumented(response);
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      vehicleId,
      name: null,
      from: "2026-03-10T00:00:00.000Z",
      to: "2026-03-11T00:00:00.000Z",
      totalAcConsumption: 40.75,
      totalDcDelivery: 35.875,
      efficiencyRatio: 0.8804, // 35.875 / 40.75 = 0.88036...
      avgBatteryTemp: 25.17, // (20 + 30 + 25.5) / 3 = 25.1666...
      dataPoints: 3,
      expectedPoints: 1440,
      coverage: 0.0021,
      maxBatteryTemp: 30,
      quality: [expect.objectContaining({ code: "low_coverage" })],
    });
  });

  it("answers efficiencyRatio null, not Infinity, when no AC was consumed", async () => {
    const vehicleId = newId();
    await send([[vehicleId, "2026-03-10T10:00:00Z", 12, 20]], []);
    const response = await getJson(t.app, `/v1/analytics/performance/${vehicleId}?${DAY}`);
    await expectDocumented(response);
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ totalAcConsumption: 0, totalDcDelivery: 12, efficiencyRatio: null });
  });

  it("answers zeros and nulls for a known vehicle with nothing in the window", async () => {
    const vehicleId = newId();
    await postJson(t.app, "/v1/mappings", { vehicleId, meterId: newId() });
    const response = await getJson(t.app, `/v1/analytics/performance/${vehicleId}?${DAY}`);
    await expectDocumented(response);
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      totalAcConsumption: 0,
      totalDcDelivery: 0,
      efficiencyRatio: null,
      avgBatteryTemp: null,
      dataPoints: 0,
    });
  });

  it("defaults to the 24 hours ending now", async () => {
    const vehicleId = newId();
    t.setNow(new Date("2026-03-15T12:00:00Z"));
    await send(
      [
        [vehicleId, "2026-03-14T11:59:59Z", 7, 20],
        [vehicleId, "2026-03-14T12:00:00Z", 3, 20],
        [vehicleId, "2026-03-15T11:59:00Z", 4, 20],
      ],
      [],
    );
    const response = await getJson(t.app, `/v1/analytics/performance/${vehicleId}`);
    await expectDocumented(response);
    expect(response.body).toMatchObject({
      from: "2026-03-14T12:00:00.000Z",
      to: "2026-03-15T12:00:00.000Z",
      totalDcDelivery: 7,
      dataPoints: 2,
    });
  });

  it("answers 200 for a vehicle seen only outside the window", async () => {
    const vehicleId = newId();
    await send([[vehicleId, "2026-01-05T10:00:00Z", 4, 20]], []);
    const response = await getJson(t.app, `/v1/analytics/performance/${vehicleId}?${DAY}`);
    await expectDocumented(response);
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ dataPoints: 0, totalDcDelivery: 0 });
    const series = await getJson(
      t.app,
      `/v1/analytics/vehicles/${vehicleId}/series?from=2026-03-10T00:00:00Z&to=2026-03-10T02:00:00Z`,
    );
    await expectDocumented(series);
    expect(series.status).toBe(200);
    expect(series.body.points).toHaveLength(2);
  });

  it("answers 404 for a vehicle never seen", async () => {
    const response = await getJson(t.app, `/v1/analytics/performance/${newId()}`);
    await expectDocumented(response);
    expect(response.status).toBe(404);
    expect(response.body.error.code).toBe("not_found");
  });

  it("refuses windows that are empty, reversed, too long or malformed", async () => {
    const vehicleId = newId();
    for (const query of [
      "from=2026-03-10T00:00:00Z&to=2026-03-10T00:00:00Z",
      "from=2026-03-11T00:00:00Z&to=2026-03-10T00:00:00Z",
      "from=2024-01-01T00:00:00Z&to=2026-03-10T00:00:00Z",
      "from=yesterday",
      "from=2026-03-10T00:00:00Z&from=2026-03-11T00:00:00Z",
    ]) {
      const response = await getJson(t.app, `/v1/analytics/performance/${vehicleId}?${query}`);
      await expectDocumented(response);
      expect(response.status).toBe(400);
      expect(response.body.error.code).toBe("validation_failed");
    }
  });

  it("reads only the partitions in the window, through the index", async () => {
    const sql = t.database.sql;
    // Enough rows in three months that the planner prefers the index to a scan.
    await t.partitions.ensure("vehicle_telemetry", [new Date("2026-01-15Z"), new Date("2026-02-15Z")]);
    await t.partitions.ensure("meter_telemetry", [new Date("2026-01-15Z"), new Date("2026-02-15Z")]);
    await sql`
      insert into vehicle_telemetry (vehicle_id, soc, kwh_delivered_dc, battery_temp, recorded_at)
      select ('00000000-0000-4000-8000-' || lpad(to_hex(device), 12, '0'))::uuid, 50, 1, 20,
             timestamptz '2026-01-01' + hour * interval '1 hour'
      from generate_series(1, 50) device, generate_series(0, 24 * 70) hour
    `;
    await sql`analyze vehicle_telemetry`;
    const vehicleId = "00000000-0000-4000-8000-000000000007";
    await sql`analyze vehicle_hourly`;
    // Partial hours at both ends: rollups for the whole hours, raw rows for the edges.
    const window = { from: new Date("2026-02-10T06:30:00Z"), to: new Date("2026-02-11T06:30:00Z") };
    const [plan] = await sql`explain (format json) ${energyQuery(sql, { vehicleId, window, bucket: "window" })}`;
    const text = JSON.stringify(plan);
    const scanned = [...new Set(text.match(/vehicle_(telemetry|hourly)_y\d{4}m\d{2}/g))].sort();
    expect(scanned).toEqual(["vehicle_hourly_y2026m02", "vehicle_telemetry_y2026m02"]);
    const meterPartitions = [...new Set(text.match(/meter_telemetry_y\d{4}m\d{2}/g))];
    expect(meterPartitions.filter((name) => name !== "meter_telemetry_y2026m02")).toEqual([]);
    expect(text).toMatch(/"Node Type":"(Index|Index Only|Bitmap Index) Scan"/);
  }, 30_000);
});
