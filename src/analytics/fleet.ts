// The whole fleet over a window of whole hours: totals, how vehicle efficiency is spread,
// the least and most efficient vehicles, and the vehicles needing attention (paginated).
// Hour-aligned windows let every figure come from the daily rollups. Totals, spread and
// ranks count paired energy only; unpaired DC and AC are totalled beside them
// (docs/design.md, "Paired energy").
import type { Queryable, Sql } from "../db/client.ts";
import { inOneSnapshot } from "../db/snapshot.ts";
import type { Window } from "./energy.ts";
import { efficiency, kwh } from "./figures.ts";
import type { FleetCache } from "./fleet-cache.ts";
import {
  FLEET_PARTS,
  type FleetEnergy,
  type FleetVehicleEnergy,
  fleetPart,
  idRanges,
  type UnlinkedMeterEnergy,
} from "./fleet-sql.ts";
import { coverageOf, expectedPointsOf, type QualityFlag, type QualityThresholds, qualityFlags } from "./quality.ts";
import { unlinkedMeters } from "./unlinked-sql.ts";

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
 * highest battery temperature, equal to the same figures over raw rows, and its links;
 * and the AC of meters at instants they were linked to no vehicle. Up to three days come
 * from the fleet cache (only what changed is read); longer windows from SQL.
 */
export async function fleetEnergy(sql: Sql, cache: FleetCache, window: Window): Promise<FleetEnergy> {
  return (await cache.energy(window)) ?? fleetEnergyFromSql(sql, window);
}

/** The same from the daily rollups in SQL, split by vehicle id over two connections, plus one for unlinked meters. */
export async function fleetEnergyFromSql(sql: Sql, window: Window): Promise<FleetEnergy> {
  const queries = [
    ...idRanges(FLEET_PARTS).map((range) => (tx: Queryable) => fleetPart(tx, window, range)),
    (tx: Queryable) => unlinkedMeters(tx, window),
  ];
  const results = await inOneSnapshot<(FleetVehicleEnergy[] | UnlinkedMeterEnergy[])[]>(sql, queries);
  const unlinked = results.pop() as UnlinkedMeterEnergy[];
  return { vehicles: (results as FleetVehicleEnergy[][]).flat(), unlinkedMeters: unlinked };
}

export async function fleetView(
  sql: Sql,
  cache: FleetCache,
  window: Window,
  thresholds: QualityThresholds,
  page: { limit: number; offset: number; each?: (figures: VehicleFigures) => void },
  now: Date,
) {
  return summarizeFleet(await fleetEnergy(sql, cache, window), window, thresholds, page, now);
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

/**
 * A vehicle's energy is paired when both sides are known in the window: it has readings
 * of its own and readings of a meter linked to it. Only paired energy is in the totals,
 * spread and ranks; the rest is unpaired (see docs/design.md).
 */
export const isPaired = (row: FleetVehicleEnergy) => row.readings > 0 && row.acMeters.length > 0;

/** The fleet view of every vehicle's figures: totals, spread, ranks and the page of vehicles needing attention. */
export function summarizeFleet(
  { vehicles: energy, unlinkedMeters }: FleetEnergy,
  window: Window,
  thresholds: QualityThresholds,
  page: { limit: number; offset: number; each?: (figures: VehicleFigures) => void },
  now: Date,
) {
  const expectedPointsPerVehicle = expectedPointsOf(window, now);
  let totalAc = 0;
  let totalDc = 0;
  let dataPoints = 0;
  let expectedPoints = 0;
  const unpaired = { dcKwh: 0, vehicles: 0, acKwh: 0, meters: new Set<string>() };
  for (const meter of unlinkedMeters) {
    unpaired.acKwh += meter.ac;
    unpaired.meters.add(meter.meterId);
  }
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
    const paired = isPaired(row);
    if (paired) {
      totalAc += ac;
      totalDc += dc;
    } else if (row.readings > 0) {
      unpaired.dcKwh += dc;
      unpaired.vehicles++;
    } else {
      unpaired.acKwh += ac;
      for (const meterId of row.acMeters) unpaired.meters.add(meterId);
    }
    const expected = expectedPointsOf(window, now, row.firstSeenMs);
    dataPoints += row.readings;
    expectedPoints += expected;
    const figures: VehicleFigures = {
      vehicleId: row.vehicleId,
      totalAcConsumption: ac,
      totalDcDelivery: dc,
      efficiencyRatio: efficiency(dc, ac),
      dataPoints: row.readings,
      coverage: coverageOf(row.readings, expected),
      maxBatteryTemp: row.tempMax,
      quality: qualityFlags(
        {
          ac,
          dc,
          readings: row.readings,
          expectedPoints: expected,
          tempMax: row.tempMax,
          meters: row.meters,
          sharedMeters: row.sharedMeters,
        },
        thresholds,
      ),
    };
    const ratio = figures.efficiencyRatio;
    if (paired && ratio !== null) {
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
    asOf: new Date(Math.min(window.to.getTime(), now.getTime())).toISOString(),
    totals: {
      vehicles: energy.length,
      totalAcConsumption: totalAc,
      totalDcDelivery: totalDc,
      efficiencyRatio: efficiency(totalDc, totalAc),
      unpaired: {
        dcKwh: kwh(unpaired.dcKwh),
        vehicles: unpaired.vehicles,
        acKwh: kwh(unpaired.acKwh),
        meters: unpaired.meters.size,
      },
      dataPoints,
      expectedPoints,
      expectedPointsPerVehicle,
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
