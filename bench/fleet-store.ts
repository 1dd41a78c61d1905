// Builds a large cold store for the analytics scenarios, bypassing HTTP: a fleet of N
// vehicles, each linked to its own meter, one reading a minute per device over the last
// `days` days (up to the start of the current hour), written by the database itself with
// `insert ... select ... from generate_series(...)`. That is the load tool's fast path
// taken all the way into the server: tens of millions of rows in minutes, where COPY from
// a client would spend most of its time shipping them over the socket.
//
// - Device ids are the load tool's (tools/load/fleet.ts `describeDevices`, seed "bench"), so
//   `bun run load --seed bench` drives the very same fleet.
// - Values are deterministic hashes of (device, minute): AC kWh per minute in [0, 0.370],
//   DC = AC × the vehicle's own efficiency in [0.85, 0.95], voltage 220–240 V, battery
//   temperature 15–45 °C, SoC 0–100 %, at the columns' scales.
// - Rows are inserted time-major (every device's minute, then the next minute), as devices
//   report, so one vehicle's readings are spread over the table the way real ingest
//   spreads them, not clustered together.
// - Each statement inserts a few hours of raw readings and, in the same statement, adds
//   those very rows to the hourly and daily rollups (`with stored as (insert ... returning
//   ...)`, `on conflict` adding to an hour or day another statement began), with the
//   service's own rollup CTEs; hot tables hold each device's newest row, read back from the
//   raw rows; links are vehicle i <-> meter i over all time.
// - The generating sessions run with synchronous_commit off: their commits may lag the WAL
//   flush by a fraction of a second. That setting is per session and leaves the service's
//   own commits, which the scenarios measure, exactly as durable as ever.
import postgres from "postgres";
import { PARTITIONED_TABLES } from "../src/partitions/partitions.ts";
import { METER_ROLLUPS, VEHICLE_FIRST_SEEN, VEHICLE_ROLLUPS } from "../src/rollups/rollup-sql.ts";
import { DAY_MS, HOUR_MS } from "../src/time.ts";
import { describeDevices, MINUTE_MS } from "../tools/load/fleet.ts";

export const FLEET_SEED = "bench";
/** About this many rows per statement: progress every few seconds, bounded memory. */
const ROWS_PER_STATEMENT = 2_000_000;

export interface StoreOptions {
  /** Vehicles (and as many meters) in the fleet. */
  vehicles: number;
  /** Days of readings for the whole fleet, ending at the start of the current hour. */
  days: number;
  /** Of the fleet, the first N vehicles (and meters) also have `historyDays` of readings. */
  historyVehicles: number;
  historyDays: number;
}

export interface FleetStore {
  options: StoreOptions;
  /** Vehicle ids, index i linked to meterIds[i]. */
  vehicleIds: string[];
  meterIds: string[];
  /** The readings cover [start, end) for every device; the history vehicles from historyStart. */
  start: Date;
  end: Date;
  historyStart: Date;
  /** Rows written per table. */
  rows: Record<"meter_telemetry" | "vehicle_telemetry" | "meter_hourly" | "vehicle_hourly", number>;
  /** Raw readings inserted (meter_telemetry + vehicle_telemetry): the rows-stored check subtracts them. */
  rawRows: number;
  /** Seconds: inserting (raw + rollups + hot + links), then VACUUM ANALYZE. */
  insertSeconds: number;
  vacuumSeconds: number;
  totalSeconds: number;
  /** Size of the database after generation, in bytes. */
  databaseBytes: number;
}

type Kind = "meter" | "vehicle";

/** Deterministic pseudo-random integer in [0, modulo) of a bigint key, one stream per salt. */
const hashed = (key: string, salt: number, modulo: number) =>
  `((hashint8extended(${key}, ${salt}) & 2147483647) % ${modulo})`;

// Minute key of a reading: epoch minute and device index, unique per reading of a kind.
const KEY = "(extract(epoch from at)::bigint / 60 * 100003 + d.i)";
const AC = `(${hashed(KEY, 1, 371)} / 1000.0)::numeric(10, 3)`;

/** The raw readings of devices [from, to) over minutes [startMs, endMs), time-major, as a select. */
function readingsSelect(kind: Kind, startMs: number, endMs: number, from: number, to: number): string {
  const minutes = `generate_series('${new Date(startMs).toISOString()}'::timestamptz,
                    '${new Date(endMs - MINUTE_MS).toISOString()}'::timestamptz, interval '1 minute') as at`;
  // The lateral subquery (kept apart by offset 0) makes the minutes the outer loop, so rows
  // come out minute by minute as devices report, whatever the planner would prefer.
  const columns =
    kind === "meter"
      ? `d.meter_id, ${AC} as kwh_consumed_ac, (220 + ${hashed(KEY, 2, 2001)} / 100.0)::numeric(6, 2) as voltage`
      : `d.vehicle_id, (${hashed(KEY, 4, 10001)} / 100.0)::numeric(5, 2) as soc,
         round(${AC} * d.efficiency, 3)::numeric(10, 3) as kwh_delivered_dc,
         (15 + ${hashed(KEY, 5, 3001)} / 100.0)::numeric(5, 2) as battery_temp`;
  return `
    select r.* from ${minutes}, lateral (
      select ${columns}, at as recorded_at
      from bench_devices d where d.i >= ${from} and d.i < ${to} offset 0
    ) r`;
}

// Raw rows and their rollups in one statement, with the very rollup CTEs the service uses
// (src/rollups/rollup-sql.ts): rows go in time-major (as a live fleet's arrive) and without
// the hot-store upsert, which is filled once at the end.
const INSERT_WITH_ROLLUPS: Record<Kind, (select: string) => string> = {
  meter: (select) => `
    with stored as (
      insert into meter_telemetry (meter_id, kwh_consumed_ac, voltage, recorded_at)
      ${select}
      returning meter_id, kwh_consumed_ac, recorded_at
    ),
    ${METER_ROLLUPS}
    select count(*)::float8 as raw from stored`,
  vehicle: (select) => `
    with stored as (
      insert into vehicle_telemetry (vehicle_id, soc, kwh_delivered_dc, battery_temp, recorded_at)
      ${select}
      returning vehicle_id, soc, kwh_delivered_dc, battery_temp, recorded_at
    ),
    ${VEHICLE_ROLLUPS},${VEHICLE_FIRST_SEEN}
    select count(*)::float8 as raw from stored`,
};

/** The months (YYYY-MM-01) that [startMs, endMs) touches. */
function monthsOf(startMs: number, endMs: number): string[] {
  const months: string[] = [];
  const date = new Date(startMs);
  let month = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1);
  while (month < endMs) {
    months.push(new Date(month).toISOString().slice(0, 10));
    const next = new Date(month);
    month = Date.UTC(next.getUTCFullYear(), next.getUTCMonth() + 1, 1);
  }
  return months;
}

interface Chunk {
  startMs: number;
  endMs: number;
  from: number;
  to: number;
}

/** [startMs, endMs) × devices [from, to) cut into whole-hour pieces of about ROWS_PER_STATEMENT rows. */
function cutIntoChunks(startMs: number, endMs: number, from: number, to: number): Chunk[] {
  const devices = to - from;
  if (devices <= 0 || endMs <= startMs) return [];
  const hours = Math.max(1, Math.floor(ROWS_PER_STATEMENT / (devices * 60)));
  const chunks: Chunk[] = [];
  // Chunk edges on whole hours (the first may start inside one), so a statement's rollup
  // rows are new ones, but for the hour where the history vehicles' older readings meet
  // the fleet's (`on conflict` adds those up).
  for (let chunkStart = startMs; chunkStart < endMs; ) {
    const chunkEnd = Math.min(endMs, (Math.floor(chunkStart / HOUR_MS) + hours) * HOUR_MS);
    chunks.push({ startMs: chunkStart, endMs: chunkEnd, from, to });
    chunkStart = chunkEnd;
  }
  return chunks;
}

export async function generateFleetStore(
  databaseUrl: string,
  options: StoreOptions,
  log: (line: string) => void,
  now = Date.now(),
): Promise<FleetStore> {
  const started = performance.now();
  const endMs = Math.floor(now / HOUR_MS) * HOUR_MS;
  // Whole minutes: every device reports on the minute, the same instants for all.
  const startMs = endMs - Math.round((options.days * DAY_MS) / MINUTE_MS) * MINUTE_MS;
  const historyVehicles = Math.min(options.historyVehicles, options.vehicles);
  const historyStartMs = historyVehicles > 0 ? Math.min(startMs, endMs - options.historyDays * DAY_MS) : startMs;
  const devices = Array.from({ length: options.vehicles }, (_, i) => describeDevices(FLEET_SEED, i));

  // One session per device kind, in parallel: the two kinds share nothing but the disk.
  const open = () =>
    postgres(databaseUrl, {
      max: 1,
      onnotice: () => {},
      connection: { application_name: "fleet-bench-generator", synchronous_commit: "off", work_mem: "256MB" },
    });
  const sessions = { meter: open(), vehicle: open() };
  try {
    const sql = sessions.meter;
    for (const month of monthsOf(historyStartMs, endMs)) {
      for (const table of PARTITIONED_TABLES) {
        await sql`select create_telemetry_partition(${table}, ${month}::date)`;
      }
    }
    for (const session of Object.values(sessions)) await createDeviceTable(session, devices);
    await sql`
      insert into vehicle_meter_mapping (vehicle_id, meter_id)
      select vehicle_id, meter_id from bench_devices
      on conflict do nothing`;

    const chunks = [
      ...cutIntoChunks(historyStartMs, startMs, 0, historyVehicles),
      ...cutIntoChunks(startMs, endMs, 0, options.vehicles),
    ];
    const expectedRows = chunks.reduce((sum, c) => sum + ((c.endMs - c.startMs) / MINUTE_MS) * (c.to - c.from), 0);
    log(
      `generating the store: ${options.vehicles.toLocaleString("en-US")} vehicles + as many meters × 1 reading/min × ` +
        `${options.days} days${historyVehicles > 0 ? ` (+ ${historyVehicles} of them back to ${options.historyDays} days)` : ""}: ` +
        `${(2 * expectedRows).toLocaleString("en-US")} raw rows in ${chunks.length} statements per kind`,
    );
    const rows = { meter_telemetry: 0, vehicle_telemetry: 0, meter_hourly: 0, vehicle_hourly: 0 };
    const fillKind = async (kind: Kind) => {
      const session = sessions[kind];
      for (const [index, chunk] of chunks.entries()) {
        const select = readingsSelect(kind, chunk.startMs, chunk.endMs, chunk.from, chunk.to);
        const [counts] = await session.unsafe<{ raw: number }[]>(INSERT_WITH_ROLLUPS[kind](select));
        rows[`${kind}_telemetry`] += counts?.raw ?? 0;
        if (kind === "vehicle" && (index % 5 === 4 || index === chunks.length - 1)) {
          const done = rows.vehicle_telemetry + rows.meter_telemetry;
          const seconds = (performance.now() - started) / 1000;
          log(
            `  ${Math.round((100 * done) / (2 * expectedRows))}%: ${done.toLocaleString("en-US")} raw rows in ${seconds.toFixed(0)} s ` +
              `(${Math.round(done / seconds).toLocaleString("en-US")} rows/s)`,
          );
        }
      }
    };
    await Promise.all([fillKind("meter"), fillKind("vehicle")]);
    await fillHotTables(sessions);
    const [rollups] = await sql<{ meter: number; vehicle: number }[]>`
      select (select count(*) from meter_hourly h join bench_devices d on h.meter_id = d.meter_id)::float8 as meter,
             (select count(*) from vehicle_hourly h join bench_devices d on h.vehicle_id = d.vehicle_id)::float8 as vehicle`;
    rows.meter_hourly = rollups?.meter ?? Number.NaN;
    rows.vehicle_hourly = rollups?.vehicle ?? Number.NaN;
    const insertSeconds = (performance.now() - started) / 1000;
    log(`inserted in ${insertSeconds.toFixed(0)} s; VACUUM ANALYZE`);

    const vacuumStarted = performance.now();
    await Promise.all([
      sessions.meter.unsafe(
        "vacuum analyze meter_telemetry, meter_hourly, meter_daily, meter_state, vehicle_meter_mapping",
      ),
      sessions.vehicle.unsafe("vacuum analyze vehicle_telemetry, vehicle_hourly, vehicle_daily, vehicle_state"),
    ]);
    const vacuumSeconds = (performance.now() - vacuumStarted) / 1000;
    const [size] = await sql<{ bytes: number }[]>`select pg_database_size(current_database())::float8 as bytes`;
    const store: FleetStore = {
      options,
      vehicleIds: devices.map((device) => device.vehicleId),
      meterIds: devices.map((device) => device.meterId),
      start: new Date(startMs),
      end: new Date(endMs),
      historyStart: new Date(historyStartMs),
      rows,
      rawRows: rows.meter_telemetry + rows.vehicle_telemetry,
      insertSeconds,
      vacuumSeconds,
      totalSeconds: (performance.now() - started) / 1000,
      databaseBytes: size?.bytes ?? Number.NaN,
    };
    log(
      `store ready in ${store.totalSeconds.toFixed(0)} s (vacuum ${vacuumSeconds.toFixed(0)} s): ${describeRows(store)}`,
    );
    return store;
  } finally {
    await Promise.all(Object.values(sessions).map((session) => session.end({ timeout: 5 })));
  }
}

/** The fleet's devices, with each vehicle's charging efficiency, as a session's temporary table. */
async function createDeviceTable(sql: postgres.Sql, devices: { vehicleId: string; meterId: string }[]) {
  await sql`
    create temporary table bench_devices (i int primary key, vehicle_id uuid not null, meter_id uuid not null,
                                          efficiency numeric not null)`;
  await sql`
    insert into bench_devices (i, vehicle_id, meter_id, efficiency)
    select i - 1, vehicle_id, meter_id, 0.85 + ${sql.unsafe(hashed("i", 3, 1001))} / 10000.0
    from unnest(${devices.map((d) => d.vehicleId)}::uuid[], ${devices.map((d) => d.meterId)}::uuid[])
         with ordinality as device(vehicle_id, meter_id, i)`;
  await sql`analyze bench_devices`;
}

/** Each device's newest raw row into its hot table (newest wins, as in the write path). */
async function fillHotTables(sessions: Record<Kind, postgres.Sql>) {
  await Promise.all([
    sessions.meter`
      insert into meter_state (meter_id, kwh_consumed_ac, voltage, last_updated)
      select newest.* from bench_devices d, lateral (
        select meter_id, kwh_consumed_ac, voltage, recorded_at from meter_telemetry r
        where r.meter_id = d.meter_id order by recorded_at desc limit 1
      ) newest
      on conflict (meter_id) do update set kwh_consumed_ac = excluded.kwh_consumed_ac, voltage = excluded.voltage,
        last_updated = excluded.last_updated
      where meter_state.last_updated < excluded.last_updated`,
    sessions.vehicle`
      insert into vehicle_state (vehicle_id, soc, kwh_delivered_dc, battery_temp, last_updated)
      select newest.* from bench_devices d, lateral (
        select vehicle_id, soc, kwh_delivered_dc, battery_temp, recorded_at from vehicle_telemetry r
        where r.vehicle_id = d.vehicle_id order by recorded_at desc limit 1
      ) newest
      on conflict (vehicle_id) do update set soc = excluded.soc, kwh_delivered_dc = excluded.kwh_delivered_dc,
        battery_temp = excluded.battery_temp, last_updated = excluded.last_updated
      where vehicle_state.last_updated < excluded.last_updated`,
  ]);
}

export function describeRows(store: FleetStore): string {
  const n = (value: number) => value.toLocaleString("en-US");
  const { rows } = store;
  return (
    `${n(store.rawRows)} raw rows (meter_telemetry ${n(rows.meter_telemetry)}, vehicle_telemetry ${n(rows.vehicle_telemetry)}), ` +
    `rollups meter_hourly ${n(rows.meter_hourly)}, vehicle_hourly ${n(rows.vehicle_hourly)}; ` +
    `database ${(store.databaseBytes / 1e9).toFixed(1)} GB`
  );
}
