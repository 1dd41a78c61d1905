// Monthly partitions of the cold store. A reading can only be stored once its month's
// partition exists, so writers ask `ensure` first, before their insert's transaction; the
// months already known are cached, and a write that still finds no partition (one dropped
// by another process) clears the cache and tries again (see isMissingPartition).
// Creating a partition locks its parent against readers, and waiting for that lock queues
// every later reader behind it: each month is made in a transaction of its own, under a
// short lock_timeout, and a wait past it is a 503 the client retries, never a stall.
import { arrayLiteral, type Sql } from "../db/client.ts";
import { AppError } from "../http/errors.ts";

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

/** PostgreSQL's lock_not_available: a lock_timeout expired. */
const LOCK_NOT_AVAILABLE = "55P03";

export const partitionBusy = () =>
  new AppError(
    503,
    "partition_busy",
    "the partition for this reading's month could not be created now (its table is busy); retry shortly",
    undefined,
    { "Retry-After": "2" },
  );

export interface PartitionOptions {
  /** How long creating a month's partitions may wait for a lock on their parents (PARTITION_LOCK_TIMEOUT_MS). */
  lockTimeoutMs?: number;
}

export interface PartitionInfo {
  table: PartitionedTable;
  name: string;
  from: Date;
  to: Date;
}

export class Partitions {
  private readonly known = new Set<string>();
  private readonly creating = new Map<string, Promise<void>>();
  private readonly lockTimeoutMs: number;

  constructor(
    private readonly sql: Sql,
    options: PartitionOptions = {},
  ) {
    this.lockTimeoutMs = options.lockTimeoutMs ?? 1_000;
  }

  /**
   * Makes sure `table` and its rollups have a partition for the month of every date given.
   * Call it outside any transaction of the caller's: each missing month is committed on its
   * own, so its lock on the parents ends with it. Throws partitionBusy (503) when a lock
   * could not be had within the lock timeout; months made before that stay made.
   */
  async ensure(table: TelemetryTable, dates: Iterable<Date>): Promise<void> {
    const missing = new Set<string>();
    for (const date of dates) {
      const month = monthOf(date);
      if (!this.known.has(`${table}:${month}`)) missing.add(month);
    }
    for (const month of missing) await this.create(table, month);
  }

  /** Whether every date's month of `table` is known to have its partitions (no database asked). */
  hasAll(table: TelemetryTable, dates: Iterable<Date>): boolean {
    for (const date of dates) if (!this.known.has(`${table}:${monthOf(date)}`)) return false;
    return true;
  }

  /** Requests that need the same month at once share one creation (and keep their order). */
  private create(table: TelemetryTable, month: string): Promise<void> {
    const key = `${table}:${month}`;
    let creating = this.creating.get(key);
    if (!creating) {
      creating = this.createMonth(table, month)
        .then(() => {
          this.known.add(key);
        })
        .finally(() => this.creating.delete(key));
      this.creating.set(key, creating);
    }
    return creating;
  }

  private async createMonth(table: TelemetryTable, month: string): Promise<void> {
    try {
      await this.sql.begin(async (tx) => {
        await tx`select set_config('lock_timeout', ${`${this.lockTimeoutMs}ms`}, true)`;
        await tx`
          select create_telemetry_partition(parent, ${month}::date)
          from unnest(${arrayLiteral([table, ...ROLLUPS_OF[table]])}::text[]) with ordinality as p(parent, i)
          order by i
        `;
      });
    } catch (error) {
      if ((error as { code?: string }).code === LOCK_NOT_AVAILABLE) throw partitionBusy();
      throw error;
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
