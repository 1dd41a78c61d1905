// The dual write: every reading goes to the cold store (history), to its kind's pending
// table (src/rollups/rollup-sql.ts: a plain append, so the reading counts in every figure
// from its commit on while the aggregator adds it to the rollups later), and, when it is
// the newest for its device, to the hot store, in one statement per device kind. Where
// the rows come from is a fragment (`source`): arrays unnested server-side for JSON
// bodies and queued singles, or a staging table filled by COPY for streamed NDJSON uploads.
// - Replays: the unique (device, recorded_at) index drops them (ON CONFLICT DO NOTHING),
//   and only rows that really went in reach the hot store or the answer. A source yields
//   each (device, instant) once (writeReadings and the staging query see to it).
// - Newest wins: the hot row changes only for a strictly newer recorded_at.
// - Deadlocks: rows are inserted in device order, so concurrent writers lock in one order.
import type { PendingQuery, Row } from "postgres";
import { arrayLiteral, type Queryable } from "../db/client.ts";
import { METER_PENDING, VEHICLE_PENDING } from "../rollups/rollup-sql.ts";
import type { MeterReading, VehicleReading } from "./schemas.ts";

/** A query yielding (meter_id, kwh_consumed_ac, voltage, recorded_at) rows. */
export type MeterSource = PendingQuery<Row[]>;
/** A query yielding (vehicle_id, soc, kwh_delivered_dc, battery_temp, recorded_at) rows. */
export type VehicleSource = PendingQuery<Row[]>;

/** Identifies a reading: device and instant (in epoch milliseconds), as the unique index does. */
export const readingKey = (deviceId: string, at: Date | number) =>
  `${deviceId}|${typeof at === "number" ? at : at.getTime()}`;

// Instants come back as epoch milliseconds: Drizzle sets this client to hand timestamps
// over as text, and text would have to be parsed again to compare.
interface StoredKey {
  device_id: string;
  at_ms: number;
}

const keysOf = (rows: readonly Row[]) =>
  new Set(rows.map((row) => readingKey((row as StoredKey).device_id, (row as StoredKey).at_ms)));

const meterArrays = (sql: Queryable, readings: MeterReading[]): MeterSource => sql`
  select *
  from unnest(
    ${arrayLiteral(readings.map((r) => r.meterId))}::uuid[],
    ${arrayLiteral(readings.map((r) => r.kwhConsumedAc))}::numeric[],
    ${arrayLiteral(readings.map((r) => r.voltage))}::numeric[],
    ${arrayLiteral(readings.map((r) => r.timestamp.toISOString()))}::timestamptz[]
  ) as reading(meter_id, kwh_consumed_ac, voltage, recorded_at)
`;

const vehicleArrays = (sql: Queryable, readings: VehicleReading[]): VehicleSource => sql`
  select *
  from unnest(
    ${arrayLiteral(readings.map((r) => r.vehicleId))}::uuid[],
    ${arrayLiteral(readings.map((r) => r.soc))}::numeric[],
    ${arrayLiteral(readings.map((r) => r.kwhDeliveredDc))}::numeric[],
    ${arrayLiteral(readings.map((r) => r.batteryTemp))}::numeric[],
    ${arrayLiteral(readings.map((r) => r.timestamp.toISOString()))}::timestamptz[]
  ) as reading(vehicle_id, soc, kwh_delivered_dc, battery_temp, recorded_at)
`;

function meterDualWrite(sql: Queryable, source: MeterSource, answer: PendingQuery<Row[]>) {
  return sql`
    with input as (${source}),
    stored as (
      insert into meter_telemetry (meter_id, kwh_consumed_ac, voltage, recorded_at)
      select meter_id, kwh_consumed_ac, voltage, recorded_at from input
      order by meter_id, recorded_at
      on conflict (meter_id, recorded_at) do nothing
      returning meter_id, kwh_consumed_ac, voltage, recorded_at
    ),
    newest as (
      select distinct on (meter_id) * from stored
      order by meter_id, recorded_at desc
    ),
    hot as (
      insert into meter_state (meter_id, kwh_consumed_ac, voltage, last_updated)
      select meter_id, kwh_consumed_ac, voltage, recorded_at from newest
      order by meter_id
      on conflict (meter_id) do update set
        kwh_consumed_ac = excluded.kwh_consumed_ac,
        voltage = excluded.voltage,
        last_updated = excluded.last_updated
      where meter_state.last_updated < excluded.last_updated
    ),
    ${sql.unsafe(METER_PENDING)}
    ${answer}
  `;
}

function vehicleDualWrite(sql: Queryable, source: VehicleSource, answer: PendingQuery<Row[]>) {
  return sql`
    with input as (${source}),
    stored as (
      insert into vehicle_telemetry (vehicle_id, soc, kwh_delivered_dc, battery_temp, recorded_at)
      select vehicle_id, soc, kwh_delivered_dc, battery_temp, recorded_at from input
      order by vehicle_id, recorded_at
      on conflict (vehicle_id, recorded_at) do nothing
      returning vehicle_id, soc, kwh_delivered_dc, battery_temp, recorded_at
    ),
    newest as (
      select distinct on (vehicle_id) * from stored
      order by vehicle_id, recorded_at desc
    ),
    hot as (
      insert into vehicle_state (vehicle_id, soc, kwh_delivered_dc, battery_temp, last_updated)
      select vehicle_id, soc, kwh_delivered_dc, battery_temp, recorded_at from newest
      order by vehicle_id
      on conflict (vehicle_id) do update set
        soc = excluded.soc,
        kwh_delivered_dc = excluded.kwh_delivered_dc,
        battery_temp = excluded.battery_temp,
        last_updated = excluded.last_updated
      where vehicle_state.last_updated < excluded.last_updated
    ),
    ${sql.unsafe(VEHICLE_PENDING)}
    ${answer}
  `;
}

/** Stores meter readings; answers the keys of those that were new. */
export async function insertMeterReadings(sql: Queryable, readings: MeterReading[]): Promise<Set<string>> {
  if (readings.length === 0) return new Set();
  const keys = sql`select meter_id as device_id, (extract(epoch from recorded_at) * 1000)::float8 as at_ms from stored`;
  return keysOf(await meterDualWrite(sql, meterArrays(sql, readings), keys));
}

/** Stores vehicle readings; answers the keys of those that were new. */
export async function insertVehicleReadings(sql: Queryable, readings: VehicleReading[]): Promise<Set<string>> {
  if (readings.length === 0) return new Set();
  const keys = sql`select vehicle_id as device_id, (extract(epoch from recorded_at) * 1000)::float8 as at_ms from stored`;
  return keysOf(await vehicleDualWrite(sql, vehicleArrays(sql, readings), keys));
}

const countStored = (sql: Queryable) => sql`select count(*)::int as stored from stored`;

/** Stores the meter rows `source` yields; answers how many were new. */
export async function insertMeterRows(sql: Queryable, source: MeterSource): Promise<number> {
  const [row] = await meterDualWrite(sql, source, countStored(sql));
  return row?.stored ?? 0;
}

/** Stores the vehicle rows `source` yields; answers how many were new. */
export async function insertVehicleRows(sql: Queryable, source: VehicleSource): Promise<number> {
  const [row] = await vehicleDualWrite(sql, source, countStored(sql));
  return row?.stored ?? 0;
}
