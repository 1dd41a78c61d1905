// Monthly partitions of the cold store. A reading can only be stored once its month's
// partition exists, so writers ask `ensure` first; the months already known are cached,
// and a write that still finds no partition (one dropped by another process) clears the
// cache and tries again (see isMissingPartition).
import { arrayLiteral, type Queryable, type Sql } from "../db/client.ts";

export const TELEMETRY_TABLES = ["meter_telemetry", "vehicle_telemetry"] as const;
export type TelemetryTable = (typeof TELEMETRY_TABLES)[number];

/** Each raw table's hourly and daily rollups: partitioned alike, created and dropped together. */
export const ROLLUPS_OF = {
  meter_telemetry: ["meter_hourly", "meter_daily"],
  vehicle_telemetry: ["vehicle_hourly", "vehicle_daily"],
} as const;
export const PARTITIONED_TABLES = [...TELEMETRY_TABLES, ...Object.values(ROLLUPS_OF).flat()] as const;
export type PartitionedTable = (typeof PARTITIONED_TABLES)[number];

/** First day of the UTC month holding `date`, as YYYY-MM-01. */
function monthOf(date: Date): string {
  const month = String(date.getUTCMonth() + 1).padStart(2, "0");
  return `${date.getUTCFullYear()}-${month}-01`;
}

/** The partition of `parent` holding `date`, named as create_telemetry_partition names it. */
export function partitionName(parent: PartitionedTable, date: Date): string {
  const month = monthOf(date);
  return `${parent}_y${month.slice(0, 4)}m${month.slice(5, 7)}`;
}

export function addMonths(date: Date, months: number): Date {
  return new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + months, 1));
}

export function isMissingPartition(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: string; message?: string };
  return code === "23514" && typeof message === "string" && message.startsWith("no partition of relation");
}

export interface PartitionInfo {
  table: PartitionedTable;
  name: string;
  from: Date;
  to: Date;
}

export class Partitions {
  private readonly known = new Set<string>();

  constructor(private readonly sql: Sql) {}

  /** Makes sure `table` and its rollups have a partition for the month of every date given. */
  async ensure(table: TelemetryTable, dates: Iterable<Date>): Promise<void> {
    const missing = new Set<string>();
    for (const date of dates) {
      const month = monthOf(date);
      if (!this.known.has(`${table}:${month}`)) missing.add(month);
    }
    for (const month of missing) {
      await this.sql`
        select create_telemetry_partition(parent, ${month}::date)
        from unnest(${arrayLiteral([table, ...ROLLUPS_OF[table]])}::text[]) with ordinality as p(parent, i)
        order by i
      `;
      this.known.add(`${table}:${month}`);
    }
  }

  /**
   * The same, checked afresh inside the caller's transaction, for a writer that already
   * holds a connection: asking the pool for a second one would let as many such writers
   * as the pool has connections each wait for another, for good. Only what is missing is
   * created (its lock then lasts until `tx` ends), and the cache is left alone, since `tx`
   * may yet roll back.
   */
  async ensureIn(tx: Queryable, table: TelemetryTable, dates: Iterable<Date>): Promise<void> {
    const wanted = new Map<string, { parent: PartitionedTable; month: string }>();
    for (const date of dates) {
      for (const parent of [table, ...ROLLUPS_OF[table]]) {
        wanted.set(partitionName(parent, date), { parent, month: monthOf(date) });
      }
    }
    if (wanted.size === 0) return;
    const missing = await tx<{ name: string }[]>`
      select name from unnest(${arrayLiteral([...wanted.keys()])}::text[]) as name where to_regclass(name) is null
    `;
    for (const { name } of missing) {
      const { parent, month } = wanted.get(name) as { parent: PartitionedTable; month: string };
      await tx`select create_telemetry_partition(${parent}, ${month}::date)`;
    }
  }

  /** This month's partitions and the next `monthsAhead` months', for both tables. */
  async createAhead(now: Date, monthsAhead: number): Promise<void> {
    const months = Array.from({ length: monthsAhead + 1 }, (_, offset) => addMonths(now, offset));
    for (const table of TELEMETRY_TABLES) await this.ensure(table, months);
  }

  /** Forgets what is cached, after a partition was dropped or could not be found. */
  forget(): void {
    this.known.clear();
  }

  async list(): Promise<PartitionInfo[]> {
    const rows = await this.sql<{ table: PartitionedTable; name: string; bound: string }[]>`
      select parent.relname as table, child.relname as name,
             pg_get_expr(child.relpartbound, child.oid) as bound
      from pg_inherits
      join pg_class parent on parent.oid = pg_inherits.inhparent
      join pg_class child on child.oid = pg_inherits.inhrelid
      where parent.relname in ${this.sql(PARTITIONED_TABLES)}
      order by parent.relname, child.relname
    `;
    return rows.map((row) => {
      const [from, to] = [...row.bound.matchAll(/'([^']+)'/g)].map((match) => new Date(match[1] as string));
      return { table: row.table, name: row.name, from: from as Date, to: to as Date };
    });
  }
}
