// The aggregator stays linear whatever PostgreSQL believes about the pending tables. A vacuum that
// runs while a large upload is still uncommitted records its pages with almost no live rows; planned
// on such statistics, custom or generic, the claim was a nested loop, and a run over a large backlog
// took minutes (quadratic). Under the aggregator's bounds every claim is a hash or merge join, and
// after a trickle, an upload and another upload under those statistics, the backlog drains in
// seconds, both device kinds, and no write is refused.
import { describe, expect, it } from "bun:test";
import { createApp } from "../src/app.ts";
import { Aggregator, type RunResult } from "../src/rollups/aggregator.ts";
import { BacklogGate } from "../src/rollups/backlog.ts";
import { aggregateStatements, type Claim, type Kind } from "../src/rollups/rollup-sql.ts";
import { applyRunBounds } from "../src/rollups/run-bounds.ts";
import { insertMeterRows, insertVehicleRows } from "../src/telemetry/store.ts";
import { useTestApp } from "./support/database.ts";
import { meterReading, newId, postJson, vehicleReading } from "./support/http.ts";

const t = useTestApp();

/** Readings of each kind in one upload: enough for a nested loop to take minutes (20,000 took 79 s). */
const LINES = 20_000;
const DEVICES = 200;

async function eventually(condition: () => boolean | Promise<boolean>, ms: number) {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms`);
    await Bun.sleep(20);
  }
}

const pending = async () => {
  const [row] = await t.database.sql<{ count: number }[]>`
    select ((select count(*) from meter_pending) + (select count(*) from vehicle_pending))::int as count
  `;
  return row?.count ?? 0;
};

/** Rows the last vacuum or analyze counted in the pending tables: what the planner believes. */
const believedPending = async () => {
  const [row] = await t.database.sql<{ rows: number }[]>`
    select sum(greatest(reltuples, 0))::float8 as rows from pg_class where relname ~ '^(meter|vehicle)_pending_h'
  `;
  return row?.rows ?? 0;
};

/** An NDJSON upload of LINES readings of each kind: DEVICES new devices each, a reading a minute from `start`. */
function ndjsonUpload(start: string): string {
  const [meters, vehicles] = [Array.from({ length: DEVICES }, newId), Array.from({ length: DEVICES }, newId)];
  const at = (i: number) => new Date(Date.parse(start) + Math.floor(i / DEVICES) * 60_000).toISOString();
  const lines = Array.from({ length: LINES }, (_, i) => [
    JSON.stringify({ type: "meter", ...meterReading({ meterId: meters[i % DEVICES], timestamp: at(i) }) }),
    JSON.stringify({ type: "vehicle", ...vehicleReading({ vehicleId: vehicles[i % DEVICES], timestamp: at(i) }) }),
  ]);
  return `${lines.flat().join("\n")}\n`;
}

/**
 * Stores LINES readings of each kind (DEVICES new devices, a reading a minute from `start`)
 * with the ingest's dual-write statement, and vacuums the pending tables before they commit,
 * as the aggregator's own vacuum may during a large upload: the statistics then count almost
 * none of them. `isKept` false rolls the readings back, leaving only those statistics.
 */
async function storeBehindVacuum(start: string, isKept = true) {
  const from = new Date(start);
  await t.partitions.ensure("meter_telemetry", [from]);
  await t.partitions.ensure("vehicle_telemetry", [from]);
  const seed = newId();
  await t.database.sql
    .begin(async (tx) => {
      const rows = tx`
        select md5(${seed} || (i % ${DEVICES}))::uuid as device_id,
               ${start}::timestamptz + (i / ${DEVICES}) * interval '1 minute' as recorded_at
        from generate_series(0, ${LINES - 1}) as i
      `;
      await insertMeterRows(
        tx,
        tx`select device_id as meter_id, 0.183 as kwh_consumed_ac, 230.5 as voltage, recorded_at from (${rows}) r`,
      );
      await insertVehicleRows(
        tx,
        tx`select device_id as vehicle_id, 55.5 as soc, 0.166 as kwh_delivered_dc, 24.25 as battery_temp, recorded_at
           from (${rows}) r`,
      );
      await t.database.sql`vacuum (skip_locked, truncate false) meter_pending, vehicle_pending`;
      expect(await believedPending()).toBeLessThan(LINES / 100);
      if (!isKept) throw new RolledBack();
    })
    .catch((error) => {
      if (!(error instanceof RolledBack)) throw error;
    });
}

class RolledBack extends Error {}

/** The plan of a kind's claiming statement, prepared and executed as `mode` makes it. */
async function planOf(kind: Kind, claim: Claim, mode: string, isBounded: boolean): Promise<string> {
  return t.database.sql.begin(async (tx) => {
    if (isBounded) await applyRunBounds(tx, 60_000, true);
    await tx.unsafe(`set local plan_cache_mode = ${mode}`);
    const [statement] = aggregateStatements(kind, claim);
    const args = statement?.params.map((param) => (param === "limit" ? "100000" : "1")).join(", ");
    await tx.unsafe(`prepare claim as ${statement?.text}`);
    try {
      const rows = await tx.unsafe<{ "QUERY PLAN": string }[]>(`explain execute claim(${args})`);
      return rows.map((row) => row["QUERY PLAN"]).join("\n");
    } finally {
      await tx.unsafe("deallocate claim");
    }
  });
}

describe("the aggregator's claim", () => {
  it("is a hash or merge join under its bounds when the statistics count almost nothing pending", async () => {
    await storeBehindVacuum("2026-03-12T00:00:00Z", false);
    for (const kind of ["meter", "vehicle"] as const) {
      for (const claim of ["delete", "mark"] as const) {
        for (const mode of ["force_custom_plan", "force_generic_plan"]) {
          // Unbounded, the planner picks the quadratic nested loop: the case this guards against.
          expect(await planOf(kind, claim, mode, false)).toContain("Nested Loop");
          const plan = await planOf(kind, claim, mode, true);
          expect(plan).not.toContain("Nested Loop");
          expect(plan).toMatch(/(Hash|Merge) (Right )?Semi Join/);
        }
      }
    }
  }, 60_000);
});

/** Single readings, one new device each, both kinds, 40 a second, until stopped; answers their statuses. */
function startTrickle(app: ReturnType<typeof createApp>) {
  const statuses: number[] = [];
  let isStopped = false;
  const loop = (async () => {
    for (let i = 0; !isStopped; i++) {
      const [path, reading] =
        i % 2 ? ["/v1/telemetry/meter", meterReading()] : ["/v1/telemetry/vehicle", vehicleReading()];
      statuses.push((await postJson(app, path, reading)).status);
      await Bun.sleep(25);
    }
  })();
  return {
    statuses,
    async stop() {
      isStopped = true;
      await loop;
    },
  };
}

describe("a large backlog after a trickle", () => {
  it("drains in seconds after an upload and another behind a misleading vacuum, refusing no write", async () => {
    // Past 1.5 uploads pending, writes are refused: only an aggregator that falls behind gets there.
    const gate = new BacklogGate(t.database.sql, 3 * LINES);
    const app = createApp({ sql: t.database.sql, db: t.database.db, writer: t.writer, backlog: gate });
    const runs: RunResult[] = [];
    const aggregator = new Aggregator({
      sql: t.database.sql,
      intervalMs: 30,
      takeoverMs: 100,
      limit: 100_000,
      claim: "delete",
      holder: "plans",
      statementTimeoutMs: 120_000,
      onRun: (run) => runs.push(run),
    });
    gate.start(50);
    aggregator.start();
    const trickle = startTrickle(app);
    try {
      // The aggregator's statements are planned on near-empty pending tables, and cached.
      await eventually(() => runs.filter((run) => run.readings > 0).length >= 10, 20_000);

      const upload = await app.request("/v1/telemetry/batch", {
        method: "POST",
        headers: { "content-type": "application/x-ndjson" },
        body: ndjsonUpload("2026-03-14T00:00:00Z"),
      });
      expect(upload.status).toBe(201);
      expect((await upload.json()).stored).toBe(2 * LINES);
      await eventually(async () => (await pending()) === 0, 30_000);

      await storeBehindVacuum("2026-03-13T00:00:00Z");
      await eventually(async () => (await pending()) === 0, 30_000);

      await trickle.stop();
      await eventually(async () => (await pending()) === 0, 30_000);
    } finally {
      await trickle.stop();
      await aggregator.stop();
      gate.stop();
    }
    expect(trickle.statuses.length).toBeGreaterThan(10);
    expect(trickle.statuses.filter((status) => status !== 201)).toEqual([]);
    // Every reading reached the rollups exactly once.
    const [counts] = await t.database.sql<{ meters: boolean; vehicles: boolean }[]>`
      select (select sum(readings) from meter_hourly) = (select count(*) from meter_telemetry) as meters,
             (select sum(readings) from vehicle_hourly) = (select count(*) from vehicle_telemetry) as vehicles
    `;
    expect(counts).toEqual({ meters: true, vehicles: true });
  }, 120_000);
});
