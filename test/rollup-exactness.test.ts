// Analytics equal a plain computation over the raw rows, to the last decimal, wherever the rollup aggregator stands.
// Whole hours are read from hourly rollups plus pending readings, partial ones from raw rows. Whatever the data,
// links and window, and whether the aggregator ran, was cut short or was killed between writes and reads, the
// figures must match; and once it has caught up, the rollups themselves must. The fleet's cached path and its SQL
// path give the same answer, and its paired and unpaired totals are those of the raw rows, with vehicles that
// have no meter and meters linked to no vehicle for part of the time or all of it.
import { describe, expect, it } from "bun:test";
import fc from "fast-check";
import { linkFactsQuery } from "../src/analytics/energy.ts";
import { fleetEnergy, fleetEnergyFromSql } from "../src/analytics/fleet.ts";
import { createSql } from "../src/db/client.ts";
import { aggregateOnce } from "../src/rollups/aggregator.ts";
import type { Claim } from "../src/rollups/rollup-sql.ts";
import { HOURS_OF_DAY } from "../src/rollups/rollup-sql.ts";
import { useTestApp } from "./support/database.ts";
import { getJson, newId, postJson } from "./support/http.ts";
import { expectDocumented } from "./support/openapi.ts";
import { normalized, rawFleet, rawTotals, rawUnlinked } from "./support/raw-fleet.ts";

const t = useTestApp();
const START = Date.parse("2026-03-01T00:00:00Z");
const SPAN_MINUTES = 3 * 24 * 60;
const at = (minute: number, second = 0) => new Date(START + minute * 60_000 + second * 1000).toISOString();

/** The same figures, straight from the raw rows and the links. */
async function rawFigures(vehicleId: string, from: string, to: string) {
  const sql = t.database.sql;
  const [row] = await sql`
    with dc as (
      select count(*)::int as points, coalesce(sum(kwh_delivered_dc), 0) as dc,
             round(avg(battery_temp), 2) as avg_temp, max(battery_temp) as max_temp
      from vehicle_telemetry
      where vehicle_id = ${vehicleId} and recorded_at >= ${from}::timestamptz and recorded_at < ${to}::timestamptz
    ),
    ac as (
      select coalesce(sum(r.kwh_consumed_ac), 0) as ac
      from vehicle_meter_mapping m
      join meter_telemetry r on r.meter_id = m.meter_id
       and r.recorded_at >= greatest(m.linked_at, ${from}::timestamptz)
       and r.recorded_at < least(m.unlinked_at, ${to}::timestamptz)
      where m.vehicle_id = ${vehicleId}
    )
    select dc.points, dc.dc, dc.avg_temp, dc.max_temp, ac.ac,
           case when ac.ac = 0 then null else round(dc.dc / ac.ac, 4) end as ratio
    from dc, ac
  `;
  return row as {
    points: number;
    dc: number;
    avg_temp: number | null;
    max_temp: number | null;
    ac: number;
    ratio: number | null;
  };
}

/** What the aggregator does at one point between writes and reads. */
interface AggregatorStep {
  action: "none" | "run" | "kill";
  limit: number;
  claim: Claim;
}

const stepArb = fc.record({
  action: fc.oneof(
    { arbitrary: fc.constant<AggregatorStep["action"]>("run"), weight: 3 },
    { arbitrary: fc.constant<AggregatorStep["action"]>("none"), weight: 1 },
    { arbitrary: fc.constant<AggregatorStep["action"]>("kill"), weight: 1 },
  ),
  // Small limits leave some readings pending and others added: both must count, once.
  limit: fc.integer({ min: 1, max: 20 }),
  claim: fc.constantFrom<Claim>("delete", "mark"),
});

class Killed extends Error {}

/** Runs (or kills mid-run) the aggregator as the next step says. */
function aggregatorSteps(steps: AggregatorStep[]) {
  let next = 0;
  return async () => {
    const step = steps[next++ % steps.length] as AggregatorStep;

    if (step.action === "none") return;
    if (step.action === "run") {
      expect(await aggregateOnce(t.database.sql, { limit: step.limit, claim: step.claim })).toBeDefined();
      return;
    }
    // Killed from outside after all its work, just before it commits: its backend is
    // terminated (odd limits), or the process fails (even ones).
    const session = createSql({ url: t.database.url, poolSize: 1, connectTimeoutSeconds: 10 });
    try {
      const run = aggregateOnce(session, {
        limit: step.limit,
        claim: step.claim,
        beforeCommit: async (tx) => {
          if (step.limit % 2) {
            const [backend] = await tx<{ pid: number }[]>`select pg_backend_pid() as pid`;
            await t.database.sql`select pg_terminate_backend(${backend?.pid ?? 0})`;
            await tx`select 1`;
          }
          throw new Killed();
        },
      });
      expect(
        await run.then(
          () => "committed",
          () => "killed",
        ),
      ).toBe("killed");
    } finally {
      await session.end({ timeout: 0 }).catch(() => {});
    }
  };
}

/** Runs the aggregator until nothing is pending. */
async function drain() {
  for (;;) {
    const run = await aggregateOnce(t.database.sql, { limit: 1000 });
    if (run?.readings === 0) return;
  }
}

/** The rollups, and the same sums straight from the raw rows, per device and hour. */
async function rollupsAndRaw() {
  const sql = t.database.sql;
  const [row] = await sql`
    select
      (select coalesce(jsonb_agg(x order by x.vehicle_id, x.hour), '[]') from (
        select vehicle_id, hour, kwh_delivered_dc, readings, battery_temp_sum, battery_temp_min, battery_temp_max, soc_min, soc_max
        from vehicle_hourly) x) as vehicle_hourly,
      (select coalesce(jsonb_agg(x order by x.vehicle_id, x.hour), '[]') from (
        select vehicle_id, date_trunc('hour', recorded_at, 'UTC') as hour, sum(kwh_delivered_dc)::numeric(16, 3) as kwh_delivered_dc,
               count(*)::int as readings, sum(battery_temp)::numeric(14, 2) as battery_temp_sum, min(battery_temp) as battery_temp_min,
               max(battery_temp) as battery_temp_max, min(soc) as soc_min, max(soc) as soc_max
        from vehicle_telemetry group by 1, 2) x) as vehicle_raw,
      (select coalesce(jsonb_agg(x order by x.meter_id, x.hour), '[]') from (
        select meter_id, hour, kwh_consumed_ac, readings from meter_hourly) x) as meter_hourly,
      (select coalesce(jsonb_agg(x order by x.meter_id, x.hour), '[]') from (
        select meter_id, date_trunc('hour', recorded_at, 'UTC') as hour, sum(kwh_consumed_ac)::numeric(16, 3) as kwh_consumed_ac,
               count(*)::int as readings
        from meter_telemetry group by 1, 2) x) as meter_raw,
      (select coalesce(jsonb_agg(x order by x.vehicle_id, x.day), '[]') from (
        select vehicle_id, day, (${sql.unsafe(HOURS_OF_DAY.map((h) => `dc_wh_${h}`).join(" + "))})::int8 as wh,
               (${sql.unsafe(HOURS_OF_DAY.map((h) => `readings_${h}`).join(" + "))})::int8 as readings
        from vehicle_daily) x) as vehicle_daily,
      (select coalesce(jsonb_agg(x order by x.vehicle_id, x.day), '[]') from (
        select vehicle_id, date_trunc('day', recorded_at, 'UTC') as day, (sum(kwh_delivered_dc) * 1000)::int8 as wh,
               count(*)::int8 as readings
        from vehicle_telemetry group by 1, 2) x) as vehicle_daily_raw,
      (select count(*) from vehicle_pending)::int + (select count(*) from meter_pending)::int as pending
  `;
  return row as Record<string, unknown>;
}

const readingArb = fc.record({
  minute: fc.nat(SPAN_MINUTES - 1),
  second: fc.nat(59),
  energy: fc.nat(50_000),
  temp: fc.integer({ min: -2000, max: 6000 }),
});

describe("rollups agree with raw rows", () => {
  it("for any readings, replays, moving meters and window", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(readingArb, { minLength: 1, maxLength: 60 }),
        fc.array(readingArb, { minLength: 1, maxLength: 60 }),
        fc.nat(SPAN_MINUTES - 1),
        fc.array(fc.tuple(fc.nat(SPAN_MINUTES * 60), fc.nat(SPAN_MINUTES * 60)), { minLength: 3, maxLength: 3 }),
        // Fleet windows of whole hours, from a day before the readings to a day after: inside
        // one day, from or to a midnight, across several days.
        fc.array(fc.tuple(fc.integer({ min: -24, max: 96 }), fc.integer({ min: -24, max: 96 })), {
          minLength: 3,
          maxLength: 3,
        }),
        // Short windows around a meter reading: inside one hour, or across one boundary.
        fc.array(fc.tuple(fc.nat(59), fc.integer({ min: 1, max: 3600 }), fc.integer({ min: 1, max: 3600 })), {
          minLength: 3,
          maxLength: 3,
        }),
        // A link kept from before links had intervals: meter B also feeds vehicle 1, all along.
        fc.boolean(),
        fc.array(stepArb, { minLength: 1, maxLength: 16 }),
        // When meter C, linked to vehicle 3, is unlinked (leaving the rest of the time unlinked).
        fc.nat(SPAN_MINUTES - 1),
        async (
          vehicleReadings,
          meterReadings,
          moveMinute,
          windows,
          fleetWindows,
          shortWindows,
          isShared,
          steps,
          cutMinute,
        ) => {
          const aggregate = aggregatorSteps(steps);
          const [v1, v2, meterA, meterB] = [newId(), newId(), newId(), newId()];
          // Vehicle 3 has no meter of its own reading while it reports, meter C feeds it until
          // cutMinute, and meter D is never linked: unpaired DC and AC.
          const [v3, meterC, meterD] = [newId(), newId(), newId()];
          const vehicles = vehicleReadings.map((r, i) => ({
            vehicleId: i % 5 === 4 ? v3 : i % 2 ? v1 : v2,
            timestamp: at(r.minute, r.second),
            kwhDeliveredDc: r.energy / 1000,
            batteryTemp: r.temp / 100,
            soc: 50,
          }));
          const meters = meterReadings.map((r, i) => ({
            meterId: i % 6 === 5 ? meterD : i % 6 === 4 ? meterC : i % 2 ? meterA : meterB,
            timestamp: at(r.minute, r.second),
            kwhConsumedAc: r.energy / 1000,
            voltage: 230,
          }));
          // Half before linking, half after, and a replay of everything: nothing counts twice.
          const half = Math.floor(meters.length / 2);
          expect(
            (await postJson(t.app, "/v1/telemetry/batch", { vehicles, meters: meters.slice(0, half) })).status,
          ).toBe(201);
          await aggregate();
          await postJson(t.app, "/v1/mappings", { vehicleId: v1, meterId: meterA });
          await postJson(t.app, "/v1/mappings", { vehicleId: v2, meterId: meterB });
          // Meter A moves to vehicle 2 at some instant inside an hour.
          const moved = await postJson(t.app, "/v1/mappings", {
            vehicleId: v2,
            meterId: meterA,
            linkedAt: at(moveMinute, 17),
          });
          await expectDocumented(moved);
          expect(moved.status).toBe(201);
          await postJson(t.app, "/v1/mappings", { vehicleId: v3, meterId: meterC });
          const cut = await t.app.request(`/v1/mappings/${v3}/${meterC}?unlinkedAt=${at(cutMinute, 29)}`, {
            method: "DELETE",
          });
          expect(cut.status).toBe(200);
          if (isShared) {
            await t.database.sql`insert into vehicle_meter_mapping (vehicle_id, meter_id) values (${v1}, ${meterB})`;
          }
          await aggregate();
          if (meters.length > half) await postJson(t.app, "/v1/telemetry/batch", { meters: meters.slice(half) });
          await aggregate();
          await postJson(t.app, "/v1/telemetry/batch", { vehicles, meters });
          await aggregate();

          // Random windows, and windows whose ends fall exactly on readings and on the move.
          const onReadings = [meterReadings[0], meterReadings.at(-1), vehicleReadings[0]].map((r) =>
            r ? r.minute * 60 + r.second : 0,
          );
          const edges: [number, number][] = [
            ...windows,
            ...shortWindows.map(([index, before, after]): [number, number] => {
              const reading = meterReadings[index % meterReadings.length] as { minute: number; second: number };
              const second = reading.minute * 60 + reading.second;
              return [Math.max(0, second - before), second + after];
            }),
            [onReadings[0] ?? 0, onReadings[1] ?? 1],
            [onReadings[2] ?? 0, moveMinute * 60 + 17],
          ];
          for (const [a, b] of edges) {
            if (a === b) continue;
            const from = new Date(START + Math.min(a, b) * 1000).toISOString();
            const to = new Date(START + Math.max(a, b) * 1000).toISOString();
            await aggregate();
            for (const vehicleId of [v1, v2, v3]) {
              const expected = await rawFigures(vehicleId, from, to);
              const response = await getJson(t.app, `/v1/analytics/performance/${vehicleId}?from=${from}&to=${to}`);
              await expectDocumented(response);
              expect(response.status).toBe(200);
              expect(response.body).toMatchObject({
                totalAcConsumption: expected.ac,
                totalDcDelivery: expected.dc,
                dataPoints: expected.points,
                avgBatteryTemp: expected.avg_temp,
                maxBatteryTemp: expected.max_temp,
                efficiencyRatio: expected.ratio,
              });
            }
          }
          // The fleet, every vehicle stored so far, over whole hours: midnight to midnight, from
          // and to a midnight, inside a day, and the random ones.
          const hourWindows: [number, number][] = [[0, 24], [9, 33], [24, 30], [30, 40], [5, 72], ...fleetWindows];
          for (const [a, b] of hourWindows) {
            if (a === b) continue;
            const from = new Date(START + Math.min(a, b) * 3_600_000);
            const to = new Date(START + Math.max(a, b) * 3_600_000);
            await aggregate();
            const fleet = await fleetEnergy(t.database.sql, t.fleetCache, { from, to });
            const [fromIso, toIso] = [from.toISOString(), to.toISOString()];
            expect(normalized(fleet).vehicles).toEqual(await rawFleet(t.database.sql, fromIso, toIso));
            expect(normalized(fleet).unlinked).toEqual(await rawUnlinked(t.database.sql, fromIso, toIso));
            // The SQL path, whatever the window's length, answers what the cache answered.
            expect(normalized(await fleetEnergyFromSql(t.database.sql, { from, to }))).toEqual(normalized(fleet));
            const view = await getJson(t.app, `/v1/analytics/fleet?from=${fromIso}&to=${toIso}`);
            await expectDocumented(view);
            expect(view.body.totals).toMatchObject(await rawTotals(t.database.sql, fromIso, toIso));
            // Link facts as the single-vehicle query counts them.
            const links = await linkFactsQuery(t.database.sql, { window: { from, to } });
            const linksOf = new Map(links.map((facts) => [facts.vehicleId, facts]));
            for (const vehicle of fleet.vehicles) {
              const facts = linksOf.get(vehicle.vehicleId);
              expect([vehicle.meters, vehicle.sharedMeters]).toEqual([facts?.meters ?? 0, facts?.sharedMeters ?? 0]);
            }
          }
          // Hourly series over the first day, bucket by bucket.
          const series = await getJson(
            t.app,
            `/v1/analytics/vehicles/${v2}/series?bucket=hour&from=${at(0)}&to=${at(24 * 60)}`,
          );
          await expectDocumented(series);
          expect(series.status).toBe(200);
          expect(series.body.points).toHaveLength(24);
          for (const point of series.body.points.filter((_: unknown, i: number) => i % 6 === 0)) {
            const end = new Date(Date.parse(point.start) + 3_600_000).toISOString();
            const expected = await rawFigures(v2, point.start, end);
            expect(point).toMatchObject({
              totalAcConsumption: expected.ac,
              totalDcDelivery: expected.dc,
              dataPoints: expected.points,
              avgBatteryTemp: expected.avg_temp,
            });
          }
          // Caught up, the rollups alone equal the raw rows.
          await drain();
          const state = await rollupsAndRaw();
          expect(state.pending).toBe(0);
          expect(state.vehicle_hourly).toEqual(state.vehicle_raw);
          expect(state.meter_hourly).toEqual(state.meter_raw);
          expect(state.vehicle_daily).toEqual(state.vehicle_daily_raw);
        },
      ),
      { numRuns: Number(process.env.RUNS ?? 25) },
    );
  }, 300_000);
});
