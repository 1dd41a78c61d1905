// The fleet's figures mean what they say: its efficiency counts only energy whose other side
// is known (unpaired DC and AC are totalled beside it), "the last 24 hours" is 24 hours that
// do not run ahead of now, and a vehicle is expected to report only since it was first seen.
// Each test has a stretch of days of its own, so they do not see each other's readings.
import { describe, expect, it } from "bun:test";
import { aggregateOnce } from "../src/rollups/aggregator.ts";
import { useTestApp } from "./support/database.ts";
import { getJson, newId, postJson } from "./support/http.ts";
import { expectDocumented } from "./support/openapi.ts";

const t = useTestApp();
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const vehicle = (vehicleId: string, at: number, kwhDeliveredDc: number) => ({
  vehicleId,
  timestamp: new Date(at).toISOString(),
  kwhDeliveredDc,
  batteryTemp: 25,
  soc: 50,
});
const meter = (meterId: string, at: number, kwhConsumedAc: number) => ({
  meterId,
  timestamp: new Date(at).toISOString(),
  kwhConsumedAc,
  voltage: 230,
});
const send = async (body: object) => expect((await postJson(t.app, "/v1/telemetry/batch", body)).status).toBe(201);
const link = async (vehicleId: string, meterId: string) =>
  expect((await postJson(t.app, "/v1/mappings", { vehicleId, meterId })).status).toBe(201);

/** A vehicle's readings, one a minute over [from, to), 0.01 kWh each. */
const everyMinute = (vehicleId: string, from: number, to: number) =>
  Array.from({ length: Math.round((to - from) / MINUTE) }, (_, i) => vehicle(vehicleId, from + i * MINUTE, 0.01));

async function fleet(query: string) {
  const response = await getJson(t.app, `/v1/analytics/fleet${query}`);
  await expectDocumented(response);
  expect(response.status).toBe(200);
  return response.body;
}

const windowOf = (from: number, to: number) =>
  `?from=${new Date(from).toISOString()}&to=${new Date(to).toISOString()}&limit=500`;
const flagsOf = (body: { needsAttention: { vehicles: { vehicleId: string; quality: { code: string }[] }[] } }) =>
  new Map(body.needsAttention.vehicles.map((v) => [v.vehicleId, v.quality.map((flag) => flag.code)]));

describe("paired energy", () => {
  it("an unpaired vehicle does not move the headline efficiency and shows in unpaired", async () => {
    const day = Date.parse("2026-02-01T00:00:00Z");
    const [paired, meterId, unmetered] = [newId(), newId(), newId()];
    await link(paired, meterId);
    await send({
      vehicles: [vehicle(paired, day + 10 * HOUR, 9), vehicle(unmetered, day + 10 * HOUR, 5)],
      meters: [meter(meterId, day + 10 * HOUR, 10)],
    });
    // One day (the fleet cache) and five (SQL over the daily rollups) give the same answer.
    for (const to of [day + DAY, day + 5 * DAY]) {
      const body = await fleet(windowOf(day, to));
      expect(body.totals).toMatchObject({
        vehicles: 2,
        totalAcConsumption: 10,
        totalDcDelivery: 9,
        efficiencyRatio: 0.9,
        unpaired: { dcKwh: 5, vehicles: 1, acKwh: 0, meters: 0 },
        dataPoints: 2,
      });
      // The unpaired vehicle is in neither the spread nor the ranks, but still needs attention.
      expect(body.efficiencyDistribution.reduce((sum: number, b: { vehicles: number }) => sum + b.vehicles, 0)).toBe(1);
      expect(body.leastEfficient.map((v: { vehicleId: string }) => v.vehicleId)).toEqual([paired]);
      expect(flagsOf(body).get(unmetered)).toContain("dc_without_meter");
    }
  });

  it("an unlinked meter's AC shows in unpaired", async () => {
    const day = Date.parse("2026-02-10T00:00:00Z");
    const [paired, moved, unlinked, silent, silentMeter] = [newId(), newId(), newId(), newId(), newId()];
    // `moved` feeds the paired vehicle until noon, then nothing; `silentMeter` feeds a vehicle
    // that never reports; `unlinked` was never linked at all.
    await link(paired, moved);
    const closed = await t.app.request(
      `/v1/mappings/${paired}/${moved}?unlinkedAt=${new Date(day + 12 * HOUR).toISOString()}`,
      {
        method: "DELETE",
      },
    );
    expect(closed.status).toBe(200);
    await link(silent, silentMeter);
    await send({
      vehicles: [vehicle(paired, day + 8 * HOUR, 3)],
      meters: [
        meter(moved, day + 8 * HOUR, 4),
        meter(moved, day + 14 * HOUR + 30 * MINUTE, 6),
        meter(unlinked, day + 9 * HOUR, 7),
        meter(silentMeter, day + 9 * HOUR, 2.5),
      ],
    });
    for (const to of [day + DAY, day + 5 * DAY]) {
      const body = await fleet(windowOf(day, to));
      expect(body.totals).toMatchObject({
        totalAcConsumption: 4,
        totalDcDelivery: 3,
        efficiencyRatio: 0.75,
        unpaired: { dcKwh: 0, vehicles: 0, acKwh: 15.5, meters: 3 },
      });
    }
    // A window inside the unlinked afternoon, not on whole days: the meter's gap alone.
    const afternoon = await fleet(windowOf(day + 13 * HOUR, day + 16 * HOUR));
    expect(afternoon.totals.unpaired).toEqual({ dcKwh: 0, vehicles: 0, acKwh: 6, meters: 1 });
  });
});

describe("windows and coverage", () => {
  it("the default 24 h window ends at or before the current hour's end and spans 24 h", async () => {
    const now = Date.parse("2026-02-20T16:10:00Z");
    t.setNow(new Date(now));
    const body = await fleet("");
    const [from, to] = [Date.parse(body.from), Date.parse(body.to)];
    expect(to - from).toBe(DAY);
    expect(to).toBeLessThanOrEqual(Math.ceil(now / HOUR) * HOUR);
    expect(to).toBeGreaterThanOrEqual(now);
    // The figures run to now, and no reading is expected of the 50 minutes still to come.
    expect(body.asOf).toBe(new Date(now).toISOString());
    expect(body.totals.expectedPointsPerVehicle).toBe((now - from) / MINUTE);
  });

  it("a device reporting every minute since the window start has coverage 1 (100%)", async () => {
    const now = Date.parse("2026-02-25T16:10:00Z");
    t.setNow(new Date(now));
    const start = Math.ceil(now / HOUR) * HOUR - DAY;
    const [vehicleId, meterId] = [newId(), newId()];
    await link(vehicleId, meterId);
    // Seen before the window too, so it is the window's start that counts, not its first reading.
    await send({ vehicles: [vehicle(vehicleId, start - 3 * HOUR, 1), ...everyMinute(vehicleId, start, now)] });
    const body = await fleet("?limit=500");
    expect(Date.parse(body.from)).toBe(start);
    expect(flagsOf(body).has(vehicleId)).toBe(false);
    const performance = await getJson(
      t.app,
      `/v1/analytics/performance/${vehicleId}?from=${new Date(start).toISOString()}&to=${new Date(start + DAY).toISOString()}`,
    );
    expect(performance.body).toMatchObject({ dataPoints: (now - start) / MINUTE, coverage: 1, quality: [] });
  });

  it("a device first seen two days ago in a 30-day window is not low_coverage", async () => {
    const now = Date.parse("2026-03-10T06:00:00Z");
    t.setNow(new Date(now));
    const [newcomer, meterId, old] = [newId(), newId(), newId()];
    await link(newcomer, meterId);
    await send({
      vehicles: [...everyMinute(newcomer, now - 2 * DAY, now), vehicle(old, now - 20 * DAY, 1)],
    });
    const window = windowOf(now - 30 * DAY, now);
    const performance = `/v1/analytics/performance/${newcomer}${window.replace("&limit=500", "")}`;
    // Whether its readings are still pending or already in the rollups (first seen kept by the aggregator).
    for (const stage of ["pending", "aggregated"]) {
      if (stage === "aggregated") expect(await aggregateOnce(t.database.sql, { limit: 1_000_000 })).toBeDefined();
      const flags = flagsOf(await fleet(window));
      expect(flags.has(newcomer)).toBe(false);
      // A vehicle seen 20 days ago and silent since is still expected to have reported.
      expect(flags.get(old)).toContain("low_coverage");
      expect((await getJson(t.app, performance)).body).toMatchObject({
        dataPoints: 2 * 24 * 60,
        expectedPoints: 2 * 24 * 60,
        coverage: 1,
      });
    }
  });
});
