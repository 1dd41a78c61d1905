// Upgrading a database that already holds data keeps every row, partition and rollup an older release left.
// A migration that rebuilds a table must keep every row and every partition, and a release that moves the
// rollups off the request path must keep the rollups it finds and count them exactly.
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { randomBytes } from "node:crypto";
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { migrate } from "drizzle-orm/postgres-js/migrator";
import postgres from "postgres";
import { createApp } from "../src/app.ts";
import { createDb, createSql, type Sql } from "../src/db/client.ts";
import { MIGRATIONS_FOLDER } from "../src/db/migrate.ts";
import { Partitions } from "../src/partitions/partitions.ts";
import { aggregateOnce } from "../src/rollups/aggregator.ts";
import { METER_ROLLUPS, VEHICLE_ROLLUPS } from "../src/rollups/rollup-sql.ts";
import { createDirectWriter } from "../src/telemetry/writer.ts";
import { databaseUrl, SERVER_URL_VARIABLE } from "./support/server.ts";

const admin = postgres(process.env[SERVER_URL_VARIABLE] as string, { max: 1, onnotice: () => {} });
const name = `fleet_upgrade_${randomBytes(4).toString("hex")}`;
let sql: Sql;
let scratch: string;

/** A copy of the migrations folder holding only the first `count` migrations. */
async function migrationsUpTo(count: number): Promise<string> {
  const folder = join(scratch, `first-${count}`);
  await cp(MIGRATIONS_FOLDER, folder, { recursive: true });
  const journalPath = join(folder, "meta", "_journal.json");
  const journal = JSON.parse(await readFile(journalPath, "utf8"));
  journal.entries = journal.entries.slice(0, count);
  await writeFile(journalPath, JSON.stringify(journal));
  return folder;
}

const columnsOf = (table: string) =>
  sql<{ name: string }[]>`
    select attname as name from pg_attribute
    where attrelid = ${table}::regclass and attnum > 0 and not attisdropped
    order by attnum
  `.then((rows) => rows.map((row) => row.name));

/** An empty database of the test server, with a pool on it; `drop` removes both. */
async function emptyDatabase(databaseName: string, poolSize: number) {
  await admin`create database ${admin(databaseName)}`;
  const pool = createSql({
    url: databaseUrl(process.env[SERVER_URL_VARIABLE] as string, databaseName),
    poolSize,
    connectTimeoutSeconds: 10,
  });
  const drop = async () => {
    await pool.end({ timeout: 5 });
    await admin`drop database if exists ${admin(databaseName)} with (force)`;
  };
  return { pool, drop };
}

let dropFirst: () => Promise<void>;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "fleet-migrations-"));
  ({ pool: sql, drop: dropFirst } = await emptyDatabase(name, 2));
});
afterAll(async () => {
  await dropFirst();
  await admin.end();
  await rm(scratch, { recursive: true, force: true });
});

describe("upgrading a database with data", () => {
  it("moves changed_xid next to the daily rollups' key and indexes it, keeping every row and month", async () => {
    const db = createDb(sql);
    await migrate(db, { migrationsFolder: await migrationsUpTo(8) });
    // November has daily rows; December only its (empty) partitions, as created ahead.
    for (const table of ["meter_telemetry", "vehicle_telemetry", "meter_daily", "vehicle_daily"]) {
      for (const month of ["2026-11-01", "2026-12-01"])
        await sql`select create_telemetry_partition(${table}, ${month})`;
    }
    await sql`
      insert into meter_daily (meter_id, day, ac_wh_00, ac_wh_23, readings_00, readings_23)
      values ('00000000-0000-4000-8000-000000000001', '2026-11-26T00:00:00Z', 1500, 250, 60, 5),
             ('00000000-0000-4000-8000-000000000002', '2026-11-27T00:00:00Z', 0, 7, 0, 1)
    `;
    await sql`
      insert into vehicle_daily (vehicle_id, day, dc_wh_05, readings_05, temp_max_05, temp_max_06)
      values ('00000000-0000-4000-8000-000000000003', '2026-11-26T00:00:00Z', 900, 12, 3150, null)
    `;
    const before = {
      meter: await sql`select * from meter_daily order by day, meter_id`,
      vehicle: await sql`select * from vehicle_daily order by day, vehicle_id`,
    };
    expect((await columnsOf("vehicle_daily")).at(-1)).toBe("changed_xid");

    await migrate(db, { migrationsFolder: MIGRATIONS_FOLDER });

    for (const table of ["meter_daily", "vehicle_daily"]) {
      expect((await columnsOf(table)).slice(0, 3)).toEqual([table.replace("_daily", "_id"), "day", "changed_xid"]);
    }
    // Every row and value, changed_xid included, compared by column name.
    expect(await sql`select * from meter_daily order by day, meter_id`).toEqual(before.meter);
    expect(await sql`select * from vehicle_daily order by day, vehicle_id`).toEqual(before.vehicle);
    const partitions = await sql<{ name: string; options: string[] | null }[]>`
      select c.relname as name, c.reloptions as options
      from pg_inherits i
      join pg_class c on c.oid = i.inhrelid
      join pg_class p on p.oid = i.inhparent
      where p.relname in ('meter_daily', 'vehicle_daily')
      order by 1
    `;
    expect([...partitions]).toEqual(
      ["meter_daily_y2026m11", "meter_daily_y2026m12", "vehicle_daily_y2026m11", "vehicle_daily_y2026m12"].map(
        (partition) => ({ name: partition, options: ["fillfactor=70"] }),
      ),
    );
    // BRIN keeps updates HOT only from PostgreSQL 16 on; before, the days are scanned instead.
    const [server] = await sql<{ version: number }[]>`select current_setting('server_version_num')::int as version`;
    const indexes = await sql<{ name: string }[]>`
      select indexname as name from pg_indexes
      where tablename in ('meter_daily', 'vehicle_daily', 'vehicle_meter_mapping') and indexname like '%changed'
      order by 1
    `;
    expect(indexes.map((index) => index.name)).toEqual(
      (server?.version ?? 0) >= 160_000
        ? ["meter_daily_changed", "vehicle_daily_changed", "vehicle_meter_mapping_changed"]
        : ["vehicle_meter_mapping_changed"],
    );
    // The key still refuses a second row of one device and day.
    const duplicate = await sql`
      insert into meter_daily (meter_id, day) values ('00000000-0000-4000-8000-000000000001', '2026-11-26T00:00:00Z')
    `.catch((error) => error.code);
    expect(duplicate).toBe("23505");
  });
});

describe("upgrading to pending rollups (0009)", () => {
  let upgraded: Sql;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    ({ pool: upgraded, drop } = await emptyDatabase(`${name}_pending`, 4));
  });
  afterAll(async () => drop());

  const rollups = async () => ({
    meterHourly: await upgraded`select * from meter_hourly order by meter_id, hour`,
    vehicleHourly: await upgraded`select * from vehicle_hourly order by vehicle_id, hour`,
    meterDaily: await upgraded`select * from meter_daily order by day, meter_id`,
    vehicleDaily: await upgraded`select * from vehicle_daily order by day, vehicle_id`,
  });

  it("keeps the rollups an older release wrote in the request, and adds new readings to them exactly", async () => {
    const db = createDb(upgraded);
    await migrate(db, { migrationsFolder: await migrationsUpTo(9) });
    for (const table of ["meter_telemetry", "vehicle_telemetry"]) {
      for (const month of ["2026-02-01", "2026-03-01"]) {
        for (const suffix of ["telemetry", "hourly", "daily"])
          await upgraded`select create_telemetry_partition(${table.replace("telemetry", suffix)}, ${month})`;
      }
    }
    // Readings as the release before wrote them: history and rollups in one statement.
    const [meterId, vehicleId] = ["00000000-0000-4000-8000-0000000000a1", "00000000-0000-4000-8000-0000000000b1"];
    await upgraded.unsafe(`
      with stored as (
        insert into meter_telemetry (meter_id, kwh_consumed_ac, voltage, recorded_at)
        select '${meterId}'::uuid, 1.25, 230, '2026-02-28T23:00:00Z'::timestamptz + make_interval(mins => i)
        from generate_series(0, 89) i
        returning meter_id, kwh_consumed_ac, recorded_at
      ),${METER_ROLLUPS}
      select 1`);
    await upgraded.unsafe(`
      with stored as (
        insert into vehicle_telemetry (vehicle_id, soc, kwh_delivered_dc, battery_temp, recorded_at)
        select '${vehicleId}'::uuid, 50, 1.125, 20 + i % 7, '2026-02-28T23:00:00Z'::timestamptz + make_interval(mins => i)
        from generate_series(0, 89) i
        returning vehicle_id, soc, kwh_delivered_dc, battery_temp, recorded_at
      ),${VEHICLE_ROLLUPS}
      select 1`);
    await upgraded`insert into vehicle_meter_mapping (vehicle_id, meter_id) values (${vehicleId}, ${meterId})`;
    const before = await rollups();

    await migrate(db, { migrationsFolder: MIGRATIONS_FOLDER });

    expect(await rollups()).toEqual(before);
    const pendingPartitions = await upgraded<{ name: string }[]>`
      select c.relname as name from pg_inherits i
      join pg_class c on c.oid = i.inhrelid join pg_class p on p.oid = i.inhparent
      where p.relname in ('meter_pending', 'vehicle_pending') order by 1
    `;
    expect(pendingPartitions.map((p) => p.name)).toEqual(
      ["meter", "vehicle"].flatMap((kind) => Array.from({ length: 8 }, (_, i) => `${kind}_pending_h${i}`)),
    );

    // New readings go to pending; answers count old and new alike, before and after aggregating.
    const partitions = new Partitions(upgraded);
    const writer = createDirectWriter(upgraded, partitions);
    const app = createApp({ sql: upgraded, db, writer, partitions, now: () => new Date("2026-03-02T00:00:00Z") });
    const more = Array.from({ length: 30 }, (_, i) => new Date(Date.parse("2026-03-01T00:30:00Z") + i * 60_000));
    const response = await app.request("/v1/telemetry/batch", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        meters: more.map((at) => ({ meterId, kwhConsumedAc: 1.25, voltage: 230, timestamp: at.toISOString() })),
        vehicles: more.map((at) => ({
          vehicleId,
          soc: 60,
          kwhDeliveredDc: 1.125,
          batteryTemp: 30,
          timestamp: at.toISOString(),
        })),
      }),
    });
    expect(response.status).toBe(201);
    const window = "from=2026-02-28T00:00:00Z&to=2026-03-02T00:00:00Z";
    const expected = { totalAcConsumption: 150, totalDcDelivery: 135, dataPoints: 120, efficiencyRatio: 0.9 };
    const answer = async () => (await app.request(`/v1/analytics/performance/${vehicleId}?${window}`)).json();
    const fleet = async () =>
      (await (await app.request(`/v1/analytics/fleet?${window}`)).json()).totals as Record<string, number>;
    expect(await answer()).toMatchObject(expected);
    expect(await fleet()).toMatchObject({ totalAcConsumption: 150, totalDcDelivery: 135, dataPoints: 120 });
    expect(await aggregateOnce(upgraded)).toMatchObject({ readings: 60 });
    expect(await answer()).toMatchObject(expected);
    expect(await fleet()).toMatchObject({ totalAcConsumption: 150, totalDcDelivery: 135, dataPoints: 120 });
    const [hour] = await upgraded`
      select readings, kwh_consumed_ac from meter_hourly where meter_id = ${meterId} and hour = '2026-03-01T00:00:00Z'
    `;
    expect(hour).toEqual({ readings: 60, kwh_consumed_ac: 75 });
    await writer.close();
  });
});

describe("upgrading to first seen (0011)", () => {
  let upgraded: Sql;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    ({ pool: upgraded, drop } = await emptyDatabase(`${name}_first_seen`, 2));
  });
  afterAll(async () => drop());

  it("fills each vehicle's first seen from its earliest reading, in any month", async () => {
    const db = createDb(upgraded);
    const journal = JSON.parse(await readFile(join(MIGRATIONS_FOLDER, "meta", "_journal.json"), "utf8"));
    const before = journal.entries.findIndex((entry: { tag: string }) => entry.tag === "0011_first_seen");
    await migrate(db, { migrationsFolder: await migrationsUpTo(before) });
    for (const month of ["2026-01-01", "2026-02-01"])
      await upgraded`select create_telemetry_partition('vehicle_telemetry', ${month})`;
    const [early, late, none] = [
      "00000000-0000-4000-8000-0000000000c1",
      "00000000-0000-4000-8000-0000000000c2",
      "00000000-0000-4000-8000-0000000000c3",
    ];
    // `early` reported in January and February (its live row holds the newest), `late` only
    // in February; `none` has a live row whose history retention has dropped.
    await upgraded`
      insert into vehicle_telemetry (vehicle_id, soc, kwh_delivered_dc, battery_temp, recorded_at)
      values (${early}, 50, 1, 20, '2026-01-31T23:59:30.250Z'), (${early}, 50, 1, 20, '2026-02-10T00:00:00Z'),
             (${late}, 50, 1, 20, '2026-02-20T08:00:00Z'), (${late}, 50, 1, 20, '2026-02-20T07:00:00Z')
    `;
    await upgraded`
      insert into vehicle_state (vehicle_id, soc, kwh_delivered_dc, battery_temp, last_updated)
      values (${early}, 50, 1, 20, '2026-02-10T00:00:00Z'), (${late}, 50, 1, 20, '2026-02-20T08:00:00Z'),
             (${none}, 50, 1, 20, '2025-06-01T00:00:00Z')
    `;

    await migrate(db, { migrationsFolder: MIGRATIONS_FOLDER });

    const rows = await upgraded<{ vehicleId: string; firstSeen: string }[]>`
      select vehicle_id as "vehicleId", to_char(first_seen at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS') as "firstSeen"
      from vehicle_first_seen order by 1
    `;
    expect([...rows]).toEqual([
      { vehicleId: early, firstSeen: "2026-01-31T23:59:30.250" },
      { vehicleId: late, firstSeen: "2026-02-20T07:00:00.000" },
    ]);
  });
});
