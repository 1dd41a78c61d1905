// One vehicle over one window: the seed design's figures (AC, DC, efficiency, average
// battery temperature, readings), plus how complete the data is and what makes the
// figures doubtful.
import type { Queryable } from "../db/client.ts";
import { type EnergyRow, energyQuery, type LinkFacts, linkFactsQuery, type Window } from "./energy.ts";
import { average, efficiency, kwh } from "./figures.ts";
import { vehicleFirstSeenQuery } from "./first-seen.ts";
import { coverageOf, expectedPointsOf, type QualityThresholds, qualityFlags } from "./quality.ts";

export async function isKnownVehicle(sql: Queryable, vehicleId: string): Promise<boolean> {
  const [row] = await sql<{ isKnown: boolean }[]>`
    select exists (select 1 from vehicle_state where vehicle_id = ${vehicleId})
        or exists (select 1 from vehicle_meter_mapping where vehicle_id = ${vehicleId}) as "isKnown"
  `;
  return row?.isKnown ?? false;
}

/**
 * The window's energy, link facts and the vehicle's first reading in one statement: one
 * round trip and one backend per request, where queries in parallel would make every
 * request wait for the slowest.
 */
async function energyAndLinks(sql: Queryable, vehicleId: string, window: Window) {
  const [row] = await sql<{ energy: EnergyRow | null; links: LinkFacts | null; firstSeenMs: number | null }[]>`
    select (select to_jsonb(e) from (${energyQuery(sql, { vehicleId, window, bucket: "window" })}) e) as energy,
           (select to_jsonb(l) from (${linkFactsQuery(sql, { vehicleId, window })}) l) as links,
           (${vehicleFirstSeenQuery(sql, vehicleId)}) as "firstSeenMs"
  `;
  return { energy: row?.energy ?? undefined, links: row?.links ?? undefined, firstSeenMs: row?.firstSeenMs ?? null };
}

export async function vehiclePerformance(
  sql: Queryable,
  vehicleId: string,
  window: Window,
  thresholds: QualityThresholds,
  now: Date,
) {
  const { energy, links, firstSeenMs } = await energyAndLinks(sql, vehicleId, window);
  // Readings or links in the window prove the vehicle is known; only an empty window
  // costs the extra look-up.
  if (!energy && !links && !(await isKnownVehicle(sql, vehicleId))) return undefined;
  const ac = kwh(energy?.ac ?? 0);
  const dc = kwh(energy?.dc ?? 0);
  const readings = energy?.readings ?? 0;
  const expectedPoints = expectedPointsOf(window, now, firstSeenMs);
  const tempMax = energy?.tempMax ?? null;
  return {
    vehicleId,
    from: window.from.toISOString(),
    to: window.to.toISOString(),
    totalAcConsumption: ac,
    totalDcDelivery: dc,
    efficiencyRatio: efficiency(dc, ac),
    avgBatteryTemp: average(energy?.tempSum ?? null, readings),
    dataPoints: readings,
    expectedPoints,
    coverage: coverageOf(readings, expectedPoints),
    maxBatteryTemp: tempMax,
    quality: qualityFlags(
      {
        ac,
        dc,
        readings,
        expectedPoints,
        tempMax,
        meters: links?.meters ?? 0,
        sharedMeters: links?.sharedMeters ?? 0,
      },
      thresholds,
    ),
  };
}
