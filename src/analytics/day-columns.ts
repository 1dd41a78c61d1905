// The fleet cache's storage (src/analytics/fleet-cache.ts): devices numbered densely, each
// day's daily-rollup rows held as columns of numbers (so a request sums 10,000 devices by
// walking arrays instead of maps and objects), and the read that refreshes them.
import { arrayLiteral, type Queryable } from "../db/client.ts";
import { partitionName } from "../partitions/partitions.ts";
import { HOURS_OF_DAY } from "../rollups/rollup-sql.ts";

const POSITIONS = 25; // sums before hour 0 .. before hour 24 (the whole day); maxima of hours 0 .. 23
/** Fields kept as running sums: position i is the sum over the hours before hour i. */
const SUMMED = new Set(["dcWh", "acWh", "readings"]);
const VEHICLE_FIELDS = ["dcWh", "readings", "tempMax"] as const;
const METER_FIELDS = ["acWh", "readings"] as const;
type Field = (typeof VEHICLE_FIELDS)[number] | (typeof METER_FIELDS)[number];

/**
 * One table's rows of one day, by device number, as columns: `values[field][position *
 * capacity + device]`. Sums are kept running (position i: the hours before hour i), so a
 * window's share of a day is two reads; maxima per hour (NaN: no reading). Laid out
 * position by position, what a window needs is read in order for every device rather
 * than by chasing one small array per row.
 */
export class DayColumns {
  capacity = 0;
  present = new Uint8Array(0);
  values = new Map<Field, Float64Array>();

  constructor(
    private readonly fields: readonly Field[],
    /** Storage of the partition the rows were read from. */
    readonly storage: number | null,
  ) {
    for (const field of fields) this.values.set(field, new Float64Array(0));
  }

  set(device: number, row: Record<string, unknown>): void {
    if (device >= this.capacity) this.grow(Math.max(1024, device + 1, this.capacity * 2));
    this.present[device] = 1;
    for (const field of this.fields) {
      const column = this.values.get(field) as Float64Array;
      const hours = row[field] as (number | null)[];
      if (SUMMED.has(field)) {
        let sum = 0;
        column[device] = 0;
        for (let hour = 0; hour < 24; hour++) {
          sum += hours[hour] ?? 0;
          column[(hour + 1) * this.capacity + device] = sum;
        }
      } else {
        for (let hour = 0; hour < 24; hour++) {
          const value = hours[hour];
          // NULL (no reading that hour) arrives as null or NaN.
          column[hour * this.capacity + device] = value === null || value === undefined ? Number.NaN : value;
        }
      }
    }
  }

  /** Adds each device's sum of a summed field over hours [lo, hi) to `into` (by device number). */
  addShare(field: Field, lo: number, hi: number, into: Float64Array): void {
    const [upTo, before] = [this.column(field, hi), this.column(field, lo)];
    const count = Math.min(this.capacity, into.length);
    for (let device = 0; device < count; device++) {
      if (this.present[device])
        into[device] = (into[device] as number) + (upTo[device] as number) - (before[device] as number);
    }
  }

  /** The column of one field at one array position, one value per device. */
  column(field: Field, hour: number): Float64Array {
    const values = this.values.get(field) as Float64Array;
    return values.subarray(hour * this.capacity, (hour + 1) * this.capacity);
  }

  private grow(capacity: number): void {
    for (const field of this.fields) {
      const old = this.values.get(field);
      const values = new Float64Array(POSITIONS * capacity);
      if (!SUMMED.has(field)) values.fill(Number.NaN); // no reading
      if (old) {
        for (let position = 0; position < POSITIONS; position++) {
          values.set(old.subarray(position * this.capacity, (position + 1) * this.capacity), position * capacity);
        }
      }
      this.values.set(field, values);
    }
    const present = new Uint8Array(capacity);
    present.set(this.present);
    this.present = present;
    this.capacity = capacity;
  }
}

/**
 * Devices numbered in the order first seen, so a day's rows sit in columns and the
 * per-request sums run over arrays rather than maps of 10,000 ids.
 */
export class Devices {
  readonly ids: string[] = [];
  private readonly numbers = new Map<string, number>();

  numberOf(id: string): number {
    let number = this.numbers.get(id);
    if (number === undefined) {
      number = this.ids.length;
      this.ids.push(id);
      this.numbers.set(id, number);
    }
    return number;
  }
}

export type Table = "vehicle_daily" | "meter_daily";

const isoDay = (dayMs: number) => new Date(dayMs).toISOString();

const hourArray = (prefix: string, cast: string) =>
  `array[${HOURS_OF_DAY.map((hour) => `${prefix}_${hour}`).join(", ")}]::${cast}[]`;

const COLUMNS = {
  vehicle_daily: `vehicle_id as "deviceId", (extract(epoch from day) * 1000)::float8 as "dayMs",
    ${hourArray("dc_wh", "float8")} as "dcWh", ${hourArray("readings", "int4")} as readings,
    ${hourArray("temp_max", "int4")} as "tempMax"`,
  meter_daily: `meter_id as "deviceId", (extract(epoch from day) * 1000)::float8 as "dayMs",
    ${hourArray("ac_wh", "float8")} as "acWh", ${hourArray("readings", "int4")} as readings`,
} as const;

/** The rows of days $1 written by transactions not older than $2 (a snapshot's xmin). */
export const changedRowsText = (table: Table) =>
  `select ${COLUMNS[table]} from ${table} where day = any($1::timestamptz[]) and changed_xid >= $2::int8`;

/** The days as the array literal the reads take. */
export const daysLiteral = (days: number[]) => arrayLiteral(days.map(isoDay));

/** One table's read: the days it finds, to be kept once every read of the snapshot succeeded. */
export async function readDays(
  tx: Queryable,
  table: Table,
  dayList: number[],
  known: Map<number, DayColumns>,
  devices: Devices,
  horizon: string | undefined,
) {
  const [meta] = await tx<{ horizon: string; storage: (number | null)[] }[]>`
    select pg_snapshot_xmin(pg_current_snapshot())::text as horizon,
           array(
             select pg_relation_filenode(to_regclass(name))::int8::float8
             from unnest(${arrayLiteral(dayList.map((day) => partitionName(table, new Date(day))))}::text[]) with ordinality as n(name, i)
             order by i
           ) as storage
  `;
  if (!meta) throw new Error("the fleet cache read no snapshot");
  // A day is read again whole when it is new, or its partition was dropped, truncated or rewritten.
  const storageOf = (i: number) => (Number.isFinite(meta.storage[i]) ? (meta.storage[i] as number) : null);
  const full = dayList.filter((day, i) => horizon === undefined || known.get(day)?.storage !== storageOf(i));
  const unchanged = dayList.filter((day) => !full.includes(day));
  type DayRow = { deviceId: string; dayMs: number } & Record<string, unknown>;
  let rows: DayRow[] = [];
  if (full.length > 0) {
    rows = rows.concat(
      await tx<DayRow[]>`
        select ${tx.unsafe(COLUMNS[table])}
        from ${tx(table)}
        where day = any(${daysLiteral(full)}::timestamptz[])
      `,
    );
  }
  if (unchanged.length > 0 && horizon !== undefined) {
    // Not prepared, so it is planned for this horizon: a recent one matches few rows, and
    // the BRIN index on changed_xid (migration 0008) then leads to the few pages written
    // since. A generic plan would have to assume a third of the table.
    rows = rows.concat(await tx.unsafe<DayRow[]>(changedRowsText(table), [daysLiteral(unchanged), horizon]));
  }
  return {
    horizon: meta.horizon,
    apply: () => {
      const fields = table === "vehicle_daily" ? VEHICLE_FIELDS : METER_FIELDS;
      const days = new Map<number, DayColumns>();
      dayList.forEach((day, i) => {
        const kept = full.includes(day) ? undefined : known.get(day);
        days.set(day, kept ?? new DayColumns(fields, storageOf(i)));
      });
      for (const row of rows) days.get(row.dayMs)?.set(devices.numberOf(row.deviceId), row);
      return days;
    },
  };
}
