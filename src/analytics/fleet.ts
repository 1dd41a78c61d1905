// The whole fleet over a window of whole hours: totals, how vehicle efficiency is spread,
// the least and most efficient vehicles, and the vehicles needing attention (paginated).
// Hour-aligned windows let every figure come from the daily rollups.
import type { Queryable, Sql } from "../db/client.ts";
import { inOneSnapshot } from "../db/snapshot.ts";
import type { Window } from "./energy.ts";
import { efficiency, kwh } from "./figures.ts";
import type { FleetCache } from "./fleet-cache.ts";
import { FLEET_PARTS, type FleetVehicleEnergy, fleetPart, idRanges } from "./fleet-sql.ts";
import { coverageOf, expectedPointsOf, type QualityFlag, type QualityThresholds, qualityFlags } from "./quality.ts";

const RANKED = 10;
/** Ties broken by vehicle id, in code-unit order: the same as collation for UUIDs, and cheaper. */
const byId = (a: { vehicleId: string }, b: { vehicleId: string }) =>
  a.vehicleId < b.vehicleId ? -1 : a.vehicleId > b.vehicleId ? 1 : 0;
/** Efficiency buckets 0.05 wide from 0.5 to 1, with open ends below and above. */
const EDGES = [0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 1];

export interface VehicleFigures {
  vehicleId: string;
  totalAcConsumption: number;
  totalDcDelivery: number;
  efficiencyRatio: number | null;
  dataPoints: number;
  coverage: number | null;
  maxBatteryTemp: number | null;
  quality: QualityFlag[];
}

function distribution(ratios: number[]) {
  const buckets = [{ min: null as number | null, max: EDGES[0] as number | null, vehicles: 0 }];
  for (let i = 0; i < EDGES.length - 1; i++)
    buckets.push({ min: EDGES[i] as number, max: EDGES[i + 1] as number, vehicles: 0 });
  buckets.push({ min: 1, max: null, vehicles: 0 });
  for (const ratio of ratios) {
    // [min, max), except that exactly 1 belongs with the bucket below it: only > 1 is impossible.
    const index =
      ratio > 1 ? buckets.length - 1 : ratio === 1 ? buckets.length - 2 : EDGES.findIndex((edge) => ratio < edge);
    const bucket = buckets[index === -1 ? buckets.length - 2 : index];
    if (bucket) bucket.vehicles++;
  }
  return buckets;
}

/**
 * Every vehicle of the fleet over a window of whole hours: AC, DC, readings and the
 * highest battery temperature, equal to the same figures over raw rows, and its links.
 * Up to three days come from the fleet cache (only what changed is read); longer windows
 * from the daily rollups in SQL, split by vehicle id over two connections.
 */
export async function fleetEnergy(sql: Sql, cache: FleetCache, window: Window): Promise<FleetVehicleEnergy[]> {
  const cached = await cache.energy(window);
  if (cached) return cached;
  const parts = await inOneSnapshot<FleetVehicleEnergy[][]>(
    sql,
    idRanges(FLEET_PARTS).map((range) => (tx: Queryable) => fleetPart(tx, window, range)),
  );
  return parts.flat();
}

export async function fleetView(
  sql: Sql,
  cache: FleetCache,
  window: Window,
  thresholds: QualityThresholds,
  page: { limit: number; offset: number; each?: (figures: VehicleFigures) => void },
) {
  return summarizeFleet(await fleetEnergy(sql, cache, window), window, thresholds, page);
}

/**
 * Keeps the `size` smallest items seen, in order, without sorting everything: 10 of
 * 10,000 vehicles is one comparison for most of them.
 */
class Smallest<T> {
  readonly items: T[] = [];

  constructor(
    private readonly size: number,
    private readonly compare: (a: T, b: T) => number,
  ) {}

  offer(item: T): void {
    const { items, size, compare } = this;
    if (items.length === size && compare(item, items[size - 1] as T) >= 0) return;
    let at = items.length === size ? size - 1 : items.length;
    while (at > 0 && compare(item, items[at - 1] as T) < 0) {
      items[at] = items[at - 1] as T;
      at--;
    }
    items[at] = item;
  }
}

/** The fleet view of every vehicle's figures: totals, spread, ranks and the page of vehicles needing attention. */
export function summarizeFleet(
  energy: FleetVehicleEnergy[],
  window: Window,
  thresholds: QualityThresholds,
  page: { limit: number; offset: number; each?: (figures: VehicleFigures) => void },
) {
  const expectedPoints = expectedPointsOf(window.from, window.to);
  let totalAc = 0;
  let totalDc = 0;
  let dataPoints = 0;
  const ratios: number[] = [];
  // Ranked by efficiency among the vehicles whose figure is physically possible.
  const least = new Smallest<VehicleFigures & { efficiencyRatio: number }>(
    RANKED,
    (a, b) => a.efficiencyRatio - b.efficiencyRatio || byId(a, b),
  );
  const most = new Smallest<VehicleFigures & { efficiencyRatio: number }>(
    RANKED,
    (a, b) => b.efficiencyRatio - a.efficiencyRatio || byId(b, a),
  );
  const attention: VehicleFigures[] = [];
  for (const row of energy) {
    const ac = kwh(row.ac);
    const dc = kwh(row.dc);
    totalAc += ac;
    totalDc += dc;
    dataPoints += row.readings;
    const figures: VehicleFigures = {
      vehicleId: row.vehicleId,
      totalAcConsumption: ac,
      totalDcDelivery: dc,
      efficiencyRatio: efficiency(dc, ac),
      dataPoints: row.readings,
      coverage: coverageOf(row.readings, expectedPoints),
      maxBatteryTemp: row.tempMax,
      quality: qualityFlags(
        {
          ac,
          dc,
          readings: row.readings,
          expectedPoints,
          tempMax: row.tempMax,
          meters: row.meters,
          sharedMeters: row.sharedMeters,
        },
        thresholds,
      ),
    };
    const ratio = figures.efficiencyRatio;
    if (ratio !== null) {
      ratios.push(ratio);
      if (ratio <= 1) {
        const ranked = figures as VehicleFigures & { efficiencyRatio: number };
        least.offer(ranked);
        most.offer(ranked);
      }
    }
    if (figures.quality.length > 0) attention.push(figures);
    page.each?.(figures); // every vehicle, for the CSV export
  }
  attention.sort((a, b) => b.quality.length - a.quality.length || byId(a, b));
  totalAc = kwh(totalAc);
  totalDc = kwh(totalDc);

  return {
    from: window.from.toISOString(),
    to: window.to.toISOString(),
    totals: {
      vehicles: energy.length,
      totalAcConsumption: totalAc,
      totalDcDelivery: totalDc,
      efficiencyRatio: efficiency(totalDc, totalAc),
      dataPoints,
      expectedPointsPerVehicle: expectedPoints,
    },
    efficiencyDistribution: distribution(ratios),
    leastEfficient: least.items,
    mostEfficient: most.items,
    needsAttention: {
      total: attention.length,
      limit: page.limit,
      offset: page.offset,
      vehicles: attention.slice(page.offset, page.offset + page.limit),
    },
  };
}
