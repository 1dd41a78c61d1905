// One vehicle, bucket by bucket (hour or day), ready to chart: every bucket of the window
// is present, empty ones with zero energy and null averages.
import type { Queryable } from "../db/client.ts";
import { DAY_MS, HOUR_MS } from "../time.ts";
import { type Bucket, energyQuery, type Window } from "./energy.ts";
import { average, efficiency, kwh } from "./figures.ts";
import { isKnownVehicle } from "./performance.ts";

export const BUCKET_MS = { hour: HOUR_MS, day: DAY_MS } as const;

/** The vehicle's buckets over the window; undefined for a vehicle never seen. */
export async function vehicleSeries(
  sql: Queryable,
  vehicleId: string,
  window: Window,
  bucket: Exclude<Bucket, "window">,
) {
  const rows = await energyQuery(sql, { vehicleId, window, bucket });
  if (rows.length === 0 && !(await isKnownVehicle(sql, vehicleId))) return undefined;
  const byStart = new Map(rows.map((row) => [row.bucketMs, row]));
  const points = [];
  for (let start = window.from.getTime(); start < window.to.getTime(); start += BUCKET_MS[bucket]) {
    const row = byStart.get(start);
    const ac = kwh(row?.ac ?? 0);
    const dc = kwh(row?.dc ?? 0);
    points.push({
      start: new Date(start).toISOString(),
      totalAcConsumption: ac,
      totalDcDelivery: dc,
      efficiencyRatio: efficiency(dc, ac),
      avgBatteryTemp: average(row?.tempSum ?? null, row?.readings ?? 0),
      maxBatteryTemp: row?.tempMax ?? null,
      socMin: row?.socMin ?? null,
      socMax: row?.socMax ?? null,
      dataPoints: row?.readings ?? 0,
    });
  }
  return { vehicleId, bucket, from: window.from.toISOString(), to: window.to.toISOString(), points };
}
