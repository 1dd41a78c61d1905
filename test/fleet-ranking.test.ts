// The fleet view's ranks, spread and attention list agree with a full sort, over random fleets.
// Held to the plain definition (sort everything, take the ends) with ties, impossible ratios and vehicles
// without AC.
import { describe, expect, it } from "bun:test";
import fc from "fast-check";
import { summarizeFleet } from "../src/analytics/fleet.ts";
import type { FleetVehicleEnergy } from "../src/analytics/fleet-sql.ts";

const window = { from: new Date("2026-11-26T00:00:00Z"), to: new Date("2026-11-27T00:00:00Z") };
const thresholds = { minCoverage: 0.9, maxBatteryTemp: 45 };

// Few distinct values, so ties in efficiency (broken by id) are common.
const vehicleEnergy = fc.record({
  vehicleId: fc.uuid(),
  ac: fc.constantFrom(0, 1, 2, 4, 8),
  dc: fc.constantFrom(0, 1, 2, 3, 9),
  readings: fc.constantFrom(0, 700, 1440),
  tempMax: fc.constantFrom(null, 30, 50),
  meters: fc.constantFrom(0, 1),
  sharedMeters: fc.constantFrom(0, 0, 1),
});

const byRatioThenId = (a: { efficiencyRatio: number; vehicleId: string }, b: typeof a) =>
  a.efficiencyRatio - b.efficiencyRatio || (a.vehicleId < b.vehicleId ? -1 : a.vehicleId > b.vehicleId ? 1 : 0);

describe("fleet summary", () => {
  it("ranks the ten least and most efficient possible vehicles, ties by id, as a full sort would", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(vehicleEnergy, { maxLength: 60, size: "max", selector: (v) => v.vehicleId }),
        fc.integer({ min: 1, max: 30 }),
        fc.integer({ min: 0, max: 40 }),
        (energy: FleetVehicleEnergy[], limit, offset) => {
          const view = summarizeFleet(energy, window, thresholds, { limit, offset });
          const all = energy.map((row) => ({
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
          const whole = summarizeFleet(energy, window, thresholds, { limit: 1000, offset: 0 }).needsAttention.vehicles;
          expect(whole.every((v) => v.quality.length > 0)).toBe(true);
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
