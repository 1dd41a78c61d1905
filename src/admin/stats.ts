// What an operator checks at 3 a.m.: how big each partition is, how far behind readings
// arrive (ingestion lag), and which devices have gone quiet. Row counts are PostgreSQL's
// estimates (exact counts would scan every partition); lag reads a bounded sample of the
// last hour through the BRIN index on ingested_at; device liveness reads the hot store.
import type { Queryable } from "../db/client.ts";
import type { Partitions } from "../partitions/partitions.ts";
import { HOUR_MS } from "../time.ts";

const LAG_WINDOW = "1 hour";
const LAG_SLICES = 12;
const LAG_SLICE_READINGS = 1_000;
const SEEN_WINDOW_MS = 5 * 60 * 1000;
const STALE_AFTER_MS = 15 * 60 * 1000;
const MAX_LISTED_STALE = 100;

export async function partitionStats(sql: Queryable, partitions: Partitions) {
  const listed = await partitions.list();
  if (listed.length === 0) return [];
  const sizes = await sql<{ name: string; rows: number; bytes: number }[]>`
    select relname as name, reltuples::float8 as rows, pg_total_relation_size(oid)::float8 as bytes
    from pg_class where relname in ${sql(listed.map((p) => p.name))}
  `;
  const byName = new Map(sizes.map((row) => [row.name, row]));
  return listed.map((partition) => {
    const size = byName.get(partition.name);
    return {
      table: partition.table,
      name: partition.name,
      from: partition.from.toISOString(),
      to: partition.to.toISOString(),
      // -1 means "never analysed": say so rather than print a made-up number.
      rowEstimate: size && size.rows >= 0 ? Math.round(size.rows) : null,
      sizeBytes: size?.bytes ?? 0,
    };
  });
}

/**
 * The lag over a sample, so its cost does not grow with the traffic: the hour is cut into
 * LAG_SLICES slices and at most LAG_SLICE_READINGS readings of each kind are taken from
 * each (through the BRIN index on ingested_at, stopping at the cap). An ordinary hour is
 * read whole; a bulk hour (millions of readings) still shows its lag slice by slice.
 */
export async function ingestionLag(sql: Queryable, now: Date) {
  const since = new Date(now.getTime() - HOUR_MS).toISOString();
  const sliceMs = HOUR_MS / LAG_SLICES;
  const [row] = await sql<{ readings: number; average: number | null; p95: number | null }[]>`
    with slices as (
      select ${since}::timestamptz + (k - 1) * ${`${sliceMs} milliseconds`}::interval as start,
             case when k = ${LAG_SLICES} then 'infinity'::timestamptz
                  else ${since}::timestamptz + k * ${`${sliceMs} milliseconds`}::interval end as stop
      from generate_series(1, ${LAG_SLICES}) as k
    ), recent as (
      select lag from slices cross join lateral (
        select extract(epoch from ingested_at - recorded_at) as lag
        from meter_telemetry where ingested_at >= slices.start and ingested_at < slices.stop
        limit ${LAG_SLICE_READINGS}
      ) meters
      union all
      select lag from slices cross join lateral (
        select extract(epoch from ingested_at - recorded_at) as lag
        from vehicle_telemetry where ingested_at >= slices.start and ingested_at < slices.stop
        limit ${LAG_SLICE_READINGS}
      ) vehicles
    )
    select count(*)::int as readings,
           round(avg(lag), 3) as average,
           round(percentile_cont(0.95) within group (order by lag)::numeric, 3) as p95
    from recent
  `;
  return {
    window: LAG_WINDOW,
    readings: row?.readings ?? 0,
    averageSeconds: row?.average ?? null,
    p95Seconds: row?.p95 ?? null,
  };
}

export async function deviceLiveness(sql: Queryable, now: Date) {
  const seenSince = new Date(now.getTime() - SEEN_WINDOW_MS).toISOString();
  const staleBefore = new Date(now.getTime() - STALE_AFTER_MS).toISOString();
  const counts = await sql<{ kind: string; seen: number; stale: number; total: number }[]>`
    select 'meter' as kind,
           count(*) filter (where last_updated >= ${seenSince}::timestamptz)::int as seen,
           count(*) filter (where last_updated < ${staleBefore}::timestamptz)::int as stale,
           count(*)::int as total
    from meter_state
    union all
    select 'vehicle',
           count(*) filter (where last_updated >= ${seenSince}::timestamptz)::int,
           count(*) filter (where last_updated < ${staleBefore}::timestamptz)::int,
           count(*)::int
    from vehicle_state
  `;
  const stale = await sql<{ kind: string; id: string; last: number }[]>`
    (select 'meter' as kind, meter_id as id, extract(epoch from last_updated)::float8 as last
     from meter_state where last_updated < ${staleBefore}::timestamptz)
    union all
    (select 'vehicle', vehicle_id, extract(epoch from last_updated)::float8
     from vehicle_state where last_updated < ${staleBefore}::timestamptz)
    order by last
    limit ${MAX_LISTED_STALE}
  `;
  const summary = (kind: string) => {
    const row = counts.find((count) => count.kind === kind);
    return { total: row?.total ?? 0, seenLast5Minutes: row?.seen ?? 0, staleOver15Minutes: row?.stale ?? 0 };
  };
  return {
    meters: summary("meter"),
    vehicles: summary("vehicle"),
    // The longest-silent first, at most MAX_LISTED_STALE of them.
    stale: stale.map((row) => ({
      kind: row.kind,
      id: row.id,
      lastUpdated: new Date(row.last * 1000).toISOString(),
    })),
  };
}
