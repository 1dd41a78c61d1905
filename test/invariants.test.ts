// The invariants of docs/design.md as properties, under concurrent writes racing rollup aggregator runs.
// Whatever mix of single readings, batches, replays and late arrivals reaches the service, with aggregator
// runs (some killed before they commit) racing them, every distinct reading is stored exactly once, the
// answers agree with what was stored, each device's hot row is its newest cold row, and each reading counts
// exactly once between the pending rows and the rollups.
import { describe, expect, it } from "bun:test";
import fc from "fast-check";
import { aggregateOnce } from "../src/rollups/aggregator.ts";
import { useTestApp } from "./support/database.ts";
import { newId, postJson } from "./support/http.ts";

const writers = { group: useTestApp({}, "group"), direct: useTestApp({}, "direct") };

const BASE = Date.parse("2026-03-15T00:00:00Z");

const readingArbitrary = fc.record({
  device: fc.nat(3),
  minute: fc.nat(60 * 24 * 60), // the last 60 days: spans three monthly partitions
  energy: fc.nat(100_000).map((n) => n / 1000),
  soc: fc.nat(10_000).map((n) => n / 100),
});

type Reading = { device: number; minute: number; energy: number; soc: number };

const planArbitrary = fc.array(
  fc.oneof(
    fc.record({ kind: fc.constant("single" as const), reading: readingArbitrary }),
    fc.record({
      kind: fc.constant("batch" as const),
      readings: fc.array(readingArbitrary, { minLength: 1, maxLength: 8 }),
    }),
    fc.record({
      kind: fc.constant("aggregate" as const),
      limit: fc.integer({ min: 1, max: 10 }),
      isKilled: fc.boolean(),
    }),
  ),
  { minLength: 1, maxLength: 25 },
);

describe.each(["group", "direct"] as const)("invariants under any mix of writes (%s writer)", (mode) => {
  it("stores each reading once, answers truthfully, and keeps hot state = newest history", async () => {
    const t = writers[mode];
    await fc.assert(
      fc.asyncProperty(planArbitrary, fc.boolean(), async (plan, isMeter) => {
        const devices = Array.from({ length: 4 }, () => newId());
        const kind = isMeter ? "meter" : "vehicle";
        const toBody = (r: Reading) => {
          const timestamp = new Date(BASE - r.minute * 60_000).toISOString();
          return isMeter
            ? { meterId: devices[r.device], kwhConsumedAc: r.energy, voltage: 230, timestamp }
            : { vehicleId: devices[r.device], soc: r.soc, kwhDeliveredDc: r.energy, batteryTemp: 20, timestamp };
        };
        // Everything at once: replays, late readings and aggregator runs race each other.
        // A run killed before it commits leaves no trace; one that finds the lock taken skips.
        const aggregate = (limit: number, isKilled: boolean) =>
          aggregateOnce(t.database.sql, {
            limit,
            beforeCommit: isKilled
              ? async () => {
                  throw new Error("killed");
                }
              : undefined,
          }).catch(() => undefined);
        const writes = plan.filter((step) => step.kind !== "aggregate");
        const [answers] = await Promise.all([
          Promise.all(
            writes.map((step) =>
              step.kind === "single"
                ? postJson(t.app, `/v1/telemetry/${kind}`, toBody(step.reading))
                : postJson(t.app, "/v1/telemetry/batch", { [`${kind}s`]: step.readings.map(toBody) }),
            ),
          ),
          ...plan.flatMap((step) => (step.kind === "aggregate" ? [aggregate(step.limit, step.isKilled)] : [])),
        ]);

        const sent = writes.flatMap((step) => (step.kind === "single" ? [step.reading] : step.readings));
        const distinct = new Set(sent.map((r) => `${r.device}|${r.minute}`));
        let storedAnswers = 0;
        let duplicateAnswers = 0;
        for (const answer of answers) {
          expect([200, 201]).toContain(answer.status);
          if ("stored" in answer.body) {
            storedAnswers += answer.body.stored;
            duplicateAnswers += answer.body.duplicates;
          } else if (answer.body.status === "stored") storedAnswers += 1;
          else duplicateAnswers += 1;
        }
        expect(storedAnswers).toBe(distinct.size);
        expect(storedAnswers + duplicateAnswers).toBe(sent.length);

        const sql = t.database.sql;
        const table = isMeter ? "meter_telemetry" : "vehicle_telemetry";
        const state = isMeter ? "meter_state" : "vehicle_state";
        const id = isMeter ? "meter_id" : "vehicle_id";
        const energy = isMeter ? "kwh_consumed_ac" : "kwh_delivered_dc";
        const [{ count }] = (await sql`
          select count(*)::int as count from ${sql(table)} where ${sql(id)} in ${sql(devices)}
        `) as unknown as [{ count: number }];
        expect(count).toBe(distinct.size);
        const mismatches = await sql`
          with newest as (
            select distinct on (${sql(id)}) ${sql(id)} as device, ${sql(energy)} as energy, recorded_at
            from ${sql(table)} where ${sql(id)} in ${sql(devices)}
            order by ${sql(id)}, recorded_at desc
          )
          select newest.device from newest
          full join ${sql(state)} hot on hot.${sql(id)} = newest.device
          where hot.${sql(id)} in ${sql(devices)} or newest.device is not null
          group by newest.device, hot.${sql(id)}, newest.energy, hot.${sql(energy)}, newest.recorded_at, hot.last_updated
          having newest.device is null or hot.${sql(id)} is null
              or newest.energy <> hot.${sql(energy)} or newest.recorded_at <> hot.last_updated
        `;
        expect([...mismatches]).toEqual([]);

        // Each reading counts once: pending, or added to its hour, never both, never neither.
        const pending = isMeter ? "meter_pending" : "vehicle_pending";
        const hourly = isMeter ? "meter_hourly" : "vehicle_hourly";
        const counted = async () => {
          const [row] = await sql<{ readings: number; energy: number; raw: number }[]>`
            select (select count(*) from ${sql(pending)} where ${sql(id)} in ${sql(devices)})::int
                 + (select coalesce(sum(readings), 0) from ${sql(hourly)} where ${sql(id)} in ${sql(devices)})::int
                   as readings,
                   (select coalesce(sum(${sql(energy)}), 0) from ${sql(pending)} where ${sql(id)} in ${sql(devices)})
                 + (select coalesce(sum(${sql(energy)}), 0) from ${sql(hourly)} where ${sql(id)} in ${sql(devices)})
                   as energy,
                   (select coalesce(sum(${sql(energy)}), 0) from ${sql(table)} where ${sql(id)} in ${sql(devices)}) as raw
          `;
          return row;
        };
        const before = await counted();
        expect(before?.readings).toBe(distinct.size);
        expect(before?.energy).toBe(before?.raw as number);
        await aggregateOnce(sql, { limit: 1_000 });
        expect(await counted()).toEqual(before);
      }),
      { numRuns: 40 },
    );
  }, 120_000);
});
