// `bun bench/batch-paths.ts`: the two ways a batch can reach PostgreSQL, measured against
// each other on the same SQL: array parameters unnested server-side (what JSON batches
// use) and COPY into a temporary staging table (what streamed NDJSON uses). 7 rounds of 5
// batches of 10,000 readings each way, one client, on a throwaway embedded server with
// durable commits; prints the median readings/s of each.

import { randomUUID } from "node:crypto";
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createDb, createSql } from "../src/db/client.ts";
import { ensureDatabase } from "../src/db/database.ts";
import { startEmbeddedPostgres } from "../src/db/embedded-postgres.ts";
import { applyMigrations } from "../src/db/migrate.ts";
import { Partitions } from "../src/partitions/partitions.ts";
import { insertMeterRows, insertVehicleRows } from "../src/telemetry/store.ts";
import { writeReadings } from "../src/telemetry/writer.ts";
import { findFreePort } from "./free-port.ts";
import { computeMedian } from "./percentiles.ts";

const dir = await mkdtemp(join(tmpdir(), "cmp-"));
await chmod(dir, 0o755);
const pg = await startEmbeddedPostgres({ dataDir: join(dir, "pg"), port: await findFreePort(), isThrowaway: true });
const sql = createSql({ url: await ensureDatabase(pg.url, "fleet"), poolSize: 4, connectTimeoutSeconds: 5 });
await applyMigrations(sql, createDb(sql));
const partitions = new Partitions(sql);
await partitions.ensure("meter_telemetry", [new Date("2026-01-15Z"), new Date("2026-02-15Z")]);
await partitions.ensure("vehicle_telemetry", [new Date("2026-01-15Z"), new Date("2026-02-15Z")]);

const meterIds = Array.from({ length: 5000 }, () => randomUUID());
const vehicleIds = Array.from({ length: 5000 }, () => randomUUID());
let minute = 0;
function makeBatch() {
  const timestamp = new Date(Date.UTC(2026, 0, 1) + minute++ * 60_000);
  return {
    meters: meterIds.map((meterId) => ({ meterId, kwhConsumedAc: 0.183, voltage: 230.5, timestamp })),
    vehicles: vehicleIds.map((vehicleId) => ({
      vehicleId,
      soc: 55.5,
      kwhDeliveredDc: 0.166,
      batteryTemp: 24.25,
      timestamp,
    })),
  };
}
type B = ReturnType<typeof makeBatch>;

async function viaCopy(batch: B) {
  return sql.begin(async (tx) => {
    await tx`create temp table staged_readings (line int not null, kind "char" not null, device_id uuid not null, a numeric, b numeric, c numeric, recorded_at timestamptz not null) on commit drop`;
    const copy = await tx`copy staged_readings from stdin`.writable();
    async function* rows() {
      let chunk = "";
      let n = 0;
      let line = 0;
      for (const r of batch.meters) {
        chunk += `${++line}\tm\t${r.meterId}\t${r.kwhConsumedAc}\t${r.voltage}\t\\N\t${r.timestamp.toISOString()}\n`;
        if (++n % 1000 === 0) {
          yield chunk;
          chunk = "";
        }
      }
      for (const r of batch.vehicles) {
        chunk += `${++line}\tv\t${r.vehicleId}\t${r.soc}\t${r.kwhDeliveredDc}\t${r.batteryTemp}\t${r.timestamp.toISOString()}\n`;
        if (++n % 1000 === 0) {
          yield chunk;
          chunk = "";
        }
      }
      if (chunk) yield chunk;
    }
    await pipeline(Readable.from(rows()), copy);
    return (
      (await insertMeterRows(
        tx,
        tx`select distinct on (device_id, recorded_at) device_id as meter_id, a as kwh_consumed_ac, b as voltage, recorded_at from staged_readings where kind = 'm' order by device_id, recorded_at, line`,
      )) +
      (await insertVehicleRows(
        tx,
        tx`select distinct on (device_id, recorded_at) device_id as vehicle_id, a as soc, b as kwh_delivered_dc, c as battery_temp, recorded_at from staged_readings where kind = 'v' order by device_id, recorded_at, line`,
      ))
    );
  });
}

const results: Record<string, number[]> = { unnest: [], copy: [] };
for (let round = 0; round < 7; round++) {
  for (const [name, fn] of [
    ["unnest", (b: B) => writeReadings(sql, partitions, b)],
    ["copy", viaCopy],
  ] as const) {
    const batches = Array.from({ length: 5 }, makeBatch);
    const started = performance.now();
    for (const b of batches) await fn(b);
    const seconds = (performance.now() - started) / 1000;
    results[name]?.push((5 * 10_000) / seconds);
  }
}
for (const [name, xs] of Object.entries(results))
  console.log(name, "readings/s median", Math.round(computeMedian(xs)), "runs", xs.map(Math.round).join(" "));
const [c] =
  await sql`select (select count(*) from meter_telemetry)::int + (select count(*) from vehicle_telemetry)::int as n`;
console.log("rows", c?.n, "expected", 7 * 2 * 5 * 10_000);
await sql.end();
await pg.stop();
await rm(dir, { recursive: true, force: true });
