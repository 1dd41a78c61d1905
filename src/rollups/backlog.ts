// How far the rollups lag behind the readings: what is pending, since when, and when the
// aggregator last ran. The figures come from the database, so every instance reports the
// same whoever aggregates. `BacklogGate` keeps ingest from outrunning the aggregator for
// good: past `limit` pending readings, writes are refused with 503 `overloaded` until it
// catches up. Answers stay exact either way, since queries add what is pending.
import type { Queryable, Sql } from "../db/client.ts";
import { AppError } from "../http/errors.ts";
import type { Logger } from "../log.ts";

export interface RollupBacklog {
  pendingReadings: number;
  /** Age of the oldest pending reading (since it was written); 0 when none is pending. */
  oldestPendingSeconds: number;
  /** When the aggregator last finished a run; null if it never ran. */
  lastRunAt: string | null;
}

/**
 * The backlog: every pending row counted (a scan of the backlog), or, given `cap`, at most
 * `cap` rows of each table, so the figure stays cheap however large the backlog grows
 * (the oldest is then the oldest of the rows counted).
 */
export async function rollupBacklog(sql: Queryable, cap?: number): Promise<RollupBacklog> {
  // limit null is no limit at all.
  const limit = cap ?? null;
  const [row] = await sql<{ pending: number; oldest: number | null; lastRunAt: number | null }[]>`
    with pending as (
      select count(*) as readings, min(queued_at) as oldest
      from (select queued_at from meter_pending limit ${limit}) meters
      union all
      select count(*), min(queued_at)
      from (select queued_at from vehicle_pending limit ${limit}) vehicles
    )
    select (select sum(readings) from pending)::float8 as pending,
           extract(epoch from clock_timestamp() - (select min(oldest) from pending))::float8 as oldest,
           (select extract(epoch from last_run_at) * 1000 from rollup_aggregator where id = 1)::float8 as "lastRunAt"
  `;
  return {
    pendingReadings: row?.pending ?? 0,
    oldestPendingSeconds: Math.max(0, Math.round((row?.oldest ?? 0) * 1000) / 1000),
    lastRunAt: row?.lastRunAt == null ? null : new Date(row.lastRunAt).toISOString(),
  };
}

/** Pending readings, counted up to `cap` only: cheap however large the backlog. */
async function pendingUpTo(sql: Queryable, cap: number): Promise<number> {
  const [row] = await sql<{ pending: number }[]>`
    select (select count(*) from (select 1 from meter_pending limit ${cap}) m)::float8
         + (select count(*) from (select 1 from vehicle_pending limit ${cap}) v)::float8 as pending
  `;
  return row?.pending ?? 0;
}

const backlogFull = () =>
  new AppError(503, "overloaded", "the rollups are too far behind the readings; retry shortly", undefined, {
    "Retry-After": "5",
  });

/**
 * Refuses writes while more than `limit` readings are pending, checked every `everyMs`
 * (each instance checks for itself: the backlog is the database's, whoever wrote it).
 */
export class BacklogGate {
  private pending = 0;
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly sql: Sql,
    readonly limit: number,
    private readonly log?: Logger,
  ) {}

  get isFull(): boolean {
    return this.pending > this.limit;
  }

  /** Throws the 503 a write gets while the backlog is full. */
  check(): void {
    if (this.isFull) throw backlogFull();
  }

  async refresh(): Promise<void> {
    const wasFull = this.isFull;
    this.pending = await pendingUpTo(this.sql, this.limit + 1);
    if (this.isFull !== wasFull) {
      this.log?.warn({ pendingOver: this.limit, isFull: this.isFull }, "rollup backlog gate changed");
    }
  }

  start(everyMs = 1000): void {
    this.timer = setInterval(() => void this.refresh().catch(() => {}), everyMs);
    this.timer.unref?.();
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
