// The fleet view's ranks, spread, totals and attention list agree with the plain definitions, over random
// fleets: sort everything and take the ends, with ties, impossible ratios, vehicles without AC, vehicles without
// readings and meters linked to none; count only paired energy in the totals and the rest as unpaired.
import { describe, expect, it } from "bun:test";
import fc from "fast-check";
import { summarizeFleet } from "../src/analytics/fleet.ts";
import type { FleetVehicleEnergy, UnlinkedMeterEnergy } from "../src/analytics/fleet-sql.ts";

const window = { from: new Date("2026-11-26T00:00:00Z"), to: new Date("2026-11-27T00:00:00Z") };
const thresholds = { minCoverage: 0.9, maxBatteryTemp: 45 };
const now = new Date("2026-11-26T18:00:00Z");
const meterIds = ["00000000-0000-4000-8000-00000000000a", "00000000-0000-4000-8000-00000000000b"];

// Few distinct values, so ties in efficiency (broken by id) are common.
const vehicleEnergy = fc.record({
  vehicleId: fc.uuid(),
  ac: fc.constantFrom(0, 1, 2, 4, 8),
  dc: fc.constantFrom(0, 1, 2, 3, 9),
  readings: fc.constantFrom(0, 700, 1440),
  tempMax: fc.constantFrom(null, 30, 50),
  meters: fc.constantFrom(0, 1),
  sharedMeters: fc.constantFrom(0, 0, 1),
  // Meters whose readings counted toward the vehicle: none is a vehicle without AC side.
  acMeters: fc.constantFrom([], [], [meterIds[0] as string], meterIds),
  firstSeenMs: fc.constantFrom(null, window.from.getTime() + 6 * 3_600_000, now.getTime() + 60_000),
});
const unlinkedMeter = fc.record({
  meterId: fc.constantFrom(...meterIds, "00000000-0000-4000-8000-00000000000c"),
  ac: fc.constantFrom(0, 1.5, 7),
});
const sum = (values: number[]) => Math.round(values.reduce((a, b) => a + b, 0) * 1000) / 1000;

const byRatioThenId = (a: { efficiencyRatio: number; vehicleId: string }, b: typeof a) =>
  a.efficiencyRatio - b.efficiencyRatio || (a.vehicleId < b.vehicleId ? -1 : a.vehicleId > b.vehicleId ? 1 : 0);

describe("fleet summary", () => {
  it("ranks the ten least and most efficient possible vehicles, ties by id, as a full sort would", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(vehicleEnergy, { maxLength: 60, size: "max", selector: (v) => v.vehicleId }),
        fc.array(unlinkedMeter, { maxLength: 4 }),
        fc.integer({ min: 1, max: 30 }),
        fc.integer({ min: 0, max: 40 }),
        (energy: FleetVehicleEnergy[], unlinkedMeters: UnlinkedMeterEnergy[], limit, offset) => {
          const fleet = { vehicles: energy, unlinkedMeters };
          const view = summarizeFleet(fleet, window, thresholds, { limit, offset }, now);
          const paired = energy.filter((row) => row.readings > 0 && row.acMeters.length > 0);
          const dcOnly = energy.filter((row) => row.readings > 0 && row.acMeters.length === 0);
          const acOnly = energy.filter((row) => row.readings === 0);
          expect(view.totals).toMatchObject({
            vehicles: energy.length,
            totalAcConsumption: sum(paired.map((row) => row.ac)),
            totalDcDelivery: sum(paired.map((row) => row.dc)),
            unpaired: {
              dcKwh: sum(dcOnly.map((row) => row.dc)),
              vehicles: dcOnly.length,
              acKwh: sum([...acOnly.map((row) => row.ac), ...unlinkedMeters.map((meter) => meter.ac)]),
              meters: new Set([
                ...acOnly.flatMap((row) => row.acMeters),
                ...unlinkedMeters.map((meter) => meter.meterId),
              ]).size,
            },
            dataPoints: sum(energy.map((row) => row.readings)),
          });
          const all = paired.map((row) => ({
            vehicleId: row.vehicleId,
            efficiencyRatio: row.ac === 0 ? null : Math.round((row.dc / row.ac) * 10_000) / 10_000,
          }));
          const rankable = all
            .filter((v): v is { vehicleId: string; efficiencyRatio: number } => v.efficiencyRatio !== null)
            .filter((v) => v.efficiencyRatio <= 1)
            .sort(byRatioThenId);
          const pick = (list: { vehicleId: string; efficiencyRatio: number | null }[]) =>
            list.map((v) => [v.vehicleId, v.efficiencyRatio]);
          expect(pick(view.leastEfficient)).toEqual(pick(rankable.slice(0, 10)));
          expect(pick(view.mostEfficient)).toEqual(pick(rankable.slice(-10).reverse()));
          expect(view.efficiencyDistribution.reduce((sum, bucket) => sum + bucket.vehicles, 0)).toBe(
            all.filter((v) => v.efficiencyRatio !== null).length,
          );

          const flagged = view.needsAttention;
          expect(flagged.vehicles.length).toBe(Math.max(0, Math.min(limit, flagged.total - offset)));
          const whole = summarizeFleet(fleet, window, thresholds, { limit: 1000, offset: 0 }, now).needsAttention
            .vehicles;
          expect(whole.every((v) => v.quality.length > 0)).toBe(true);
          // Readings are expected from the window's start or the first reading, to now (18:00).
          for (const flagged of whole) {
            const row = energy.find((v) => v.vehicleId === flagged.vehicleId) as FleetVehicleEnergy;
            const start = Math.max(window.from.getTime(), row.firstSeenMs ?? 0);
            const expected = Math.max(0, (now.getTime() - start) / 60_000);
            expect(flagged.coverage).toBe(
              expected === 0 ? null : Math.round((row.readings / expected) * 10_000) / 10_000,
            );
          }
          for (let i = 1; i < whole.length; i++) {
            const [before, after] = [whole[i - 1], whole[i]] as [(typeof whole)[0], (typeof whole)[0]];
            const order = before.quality.length - after.quality.length || (before.vehicleId < after.vehicleId ? 1 : -1);
            expect(order).toBeGreaterThan(0);
          }
          expect(flagged.vehicles).toEqual(whole.slice(offset, offset + limit));
        },
      ),
      { numRuns: 300 },
    );
  });
});
