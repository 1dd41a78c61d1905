// `bun bench/explain-analytics.ts <database-url> [vehicle-id]`: where the analytics time
// goes. Prints EXPLAIN (ANALYZE, BUFFERS) of the very queries the service runs
// (src/analytics/energy.ts, through the service's own client) for the three shapes the
// bench measures: one vehicle over the 24 hours ending now, over the 30 days ending now,
// and the fleet over its default 24 whole hours (what its cache reads per request, and the
// SQL that longer windows run). Point it at a database holding a store:
// `bun run bench -- --analytics-only --keep` prints its URL and leaves it running.

import { changedRowsText, daysLiteral, type Table } from "../src/analytics/day-columns.ts";
import { energyQuery, linkFactsQuery, type Window } from "../src/analytics/energy.ts";
import { fleetPart } from "../src/analytics/fleet-sql.ts";
import { createSql } from "../src/db/client.ts";
import { DAY_MS, HOUR_MS } from "../src/time.ts";
import { describeDevices } from "../tools/load/fleet.ts";
import { FLEET_SEED } from "./fleet-store.ts";

export async function explainAnalytics(databaseUrl: string, vehicleId: string, print: (text: string) => void) {
  const sql = createSql({ url: databaseUrl, poolSize: 1, connectTimeoutSeconds: 5 });
  try {
    const now = Date.now();
    const fleetTo = Math.ceil(now / HOUR_MS) * HOUR_MS;
    const shapes: [string, string | undefined, Window][] = [
      ["one vehicle, 24 h ending now", vehicleId, { from: new Date(now - DAY_MS), to: new Date(now) }],
      ["one vehicle, 30 days ending now", vehicleId, { from: new Date(now - 30 * DAY_MS), to: new Date(now) }],
      [
        "fleet, 24 whole hours (default window)",
        undefined,
        { from: new Date(fleetTo - DAY_MS), to: new Date(fleetTo) },
      ],
    ];
    for (const [name, id, window] of shapes) {
      // The fleet view reads the daily rollups (from its cache, or this SQL for long windows).
      const queries = id
        ? ([
            ["energyQuery", energyQuery(sql, { vehicleId: id, window, bucket: "window" })],
            ["linkFactsQuery", linkFactsQuery(sql, { vehicleId: id, window })],
          ] as const)
        : ([["fleetPart (the whole fleet in one part)", fleetPart(sql, window, [null, null])]] as const);
      for (const [query, pending] of queries) {
        // Once to warm the caches the way a busy service has them, then the measured plan.
        await sql`explain (analyze) ${pending}`;
        const plan = await sql<{ "QUERY PLAN": string }[]>`explain (analyze, buffers) ${pending}`;
        print(`\n### ${name}: ${query} [${window.from.toISOString()}, ${window.to.toISOString()})\n`);
        print(plan.map((row) => row["QUERY PLAN"]).join("\n"));
      }
    }
    // The fleet cache's read of what changed: here, since the oldest transaction running a
    // second ago (with ingest running, about a second of writes).
    const [snapshot] = await sql<
      { horizon: string }[]
    >`select pg_snapshot_xmin(pg_current_snapshot())::text as horizon`;
    await Bun.sleep(1000);
    const days = [Math.floor((fleetTo - DAY_MS) / DAY_MS) * DAY_MS, Math.floor((fleetTo - 1) / DAY_MS) * DAY_MS];
    for (const table of ["vehicle_daily", "meter_daily"] as Table[]) {
      const plan = await sql.unsafe<{ "QUERY PLAN": string }[]>(
        `explain (analyze, buffers) ${changedRowsText(table)}`,
        [daysLiteral([...new Set(days)]), snapshot?.horizon ?? "0"],
      );
      print(`\n### fleet cache, rows of ${table} changed in the last second\n`);
      print(plan.map((row) => row["QUERY PLAN"]).join("\n"));
    }
  } finally {
    await sql.end({ timeout: 5 });
  }
}

if (import.meta.main) {
  const [databaseUrl, argvVehicle] = Bun.argv.slice(2);
  if (!databaseUrl) {
    console.error(
      "usage: bun bench/explain-analytics.ts <database-url> [vehicle-id (default: the generated fleet's vehicle 0)]",
    );
    process.exit(2);
  }
  // Default: the fleet's vehicle 0, one of those with 30 days of history (bench/fleet-store.ts).
  const vehicleId = argvVehicle ?? describeDevices(FLEET_SEED, 0).vehicleId;
  await explainAnalytics(databaseUrl, vehicleId, (text) => console.log(text));
}
