// The partition lifecycle, run at start-up and then every hour: partitions are created
// ahead for the coming months and, when RETENTION_MONTHS is set, partitions entirely
// older than the retention horizon are dropped whole (never row by row). Several
// instances may share a database: whoever holds the advisory lock does the work, the
// others skip that round. Every step is idempotent.
import type { Sql } from "../db/client.ts";
import type { Logger } from "../log.ts";
import { HOUR_MS } from "../time.ts";
import { addMonths, type Partitions } from "./partitions.ts";

const MAINTENANCE_LOCK = 7_340_002;

export interface MaintenanceOptions {
  sql: Sql;
  partitions: Partitions;
  now: () => Date;
  monthsAhead: number;
  retentionMonths?: number;
  log?: Logger;
}

export interface MaintenanceResult {
  /** False when another instance held the lock and this round was skipped. */
  didRun: boolean;
  dropped: string[];
}

/**
 * The oldest instant kept: the start of the UTC month `retentionMonths` before this one
 * (3 in November keeps August onwards). Undefined when nothing is ever dropped.
 */
export function retentionHorizon(now: Date, retentionMonths?: number): Date | undefined {
  return retentionMonths === undefined ? undefined : addMonths(now, -retentionMonths);
}

export async function maintainPartitions(options: MaintenanceOptions): Promise<MaintenanceResult> {
  const { sql, partitions } = options;
  const session = await sql.reserve();
  try {
    const [lock] = await session`select pg_try_advisory_lock(${MAINTENANCE_LOCK}) as acquired`;
    if (!lock?.acquired) return { didRun: false, dropped: [] };
    try {
      const now = options.now();
      await partitions.createAhead(now, options.monthsAhead);
      const horizon = retentionHorizon(now, options.retentionMonths);
      const dropped: string[] = [];
      if (horizon) {
        // Dropping a partition briefly locks its table; give up rather than stall writers.
        await session`set lock_timeout = '5s'`;
        // Pending readings of the months going first: the aggregator would fail adding them
        // to rollups already dropped. They are few (the aggregator keeps up), so deleted.
        for (const table of ["meter_pending", "vehicle_pending"]) {
          await session`delete from ${session(table)} where recorded_at < ${horizon.toISOString()}::timestamptz`;
        }
        const expired = (await partitions.list()).filter((partition) => partition.to <= horizon);
        for (const partition of expired) {
          await session`drop table if exists ${session(partition.name)}`;
          dropped.push(partition.name);
        }
        await session`reset lock_timeout`;
        if (dropped.length > 0) partitions.forget();
      }
      if (dropped.length > 0) options.log?.info({ dropped, horizon }, "dropped partitions past retention");
      return { didRun: true, dropped };
    } finally {
      await session`select pg_advisory_unlock(${MAINTENANCE_LOCK})`;
    }
  } finally {
    session.release();
  }
}

/** Runs maintenance now and every `intervalMs`; a failed round is logged and retried next time. */
export function scheduleMaintenance(options: MaintenanceOptions, intervalMs = HOUR_MS) {
  const run = () =>
    maintainPartitions(options).catch((error) => options.log?.error({ err: error }, "partition maintenance failed"));
  const timer = setInterval(run, intervalMs);
  timer.unref?.();
  return {
    first: run(),
    stop: () => clearInterval(timer),
  };
}
