// The one aggregator per database: it moves pending readings into the hourly and daily
// rollups, off the request path. Every instance runs an Aggregator; the one holding the
// session advisory lock AGGREGATOR_LOCK does the work, every `intervalMs`, and the others
// try to take the lock every `takeoverMs`, so when the holder dies (its connection, and
// with it the lock, goes) another one takes over within that time.
//
// A run is one transaction: it takes the pending rows, adds them to the rollups and
// deletes them (src/rollups/rollup-sql.ts), and records itself in `rollup_aggregator`. A
// crash at any point rolls all of it back, so a reading is added exactly once, and readers
// see it either pending or in the rollups, never both and never neither.
import type { ReservedSql } from "postgres";
import type { Queryable, Sql } from "../db/client.ts";
import type { Logger } from "../log.ts";
import { aggregateStatements, type Claim, type Kind } from "./rollup-sql.ts";

export const AGGREGATOR_LOCK = 7_340_003;
/**
 * The pending tables are a queue: every row is deleted within a run or two. Autovacuum
 * looks at a table once a minute at best, and a burst deletes millions of rows in that
 * time, which every scan of pending (runs, queries) would then wade through. So the
 * aggregator vacuums them itself, after this many readings, or this long after the last
 * vacuum when any were moved.
 */
const VACUUM_AFTER_READINGS = 20_000;
const VACUUM_AFTER_MS = 5_000;
const KINDS: Kind[] = ["meter", "vehicle"];

export interface RunResult {
  /** Readings added to the rollups. */
  readings: number;
  /** Hourly and daily rollup rows they were added to (one update each). */
  hourlyRows: number;
  dailyRows: number;
  durationMs: number;
}

export interface RunOptions {
  /** The most pending rows of each kind one run takes. */
  limit: number;
  claim: Claim;
  /** Who runs it, as `rollup_aggregator.holder` shows. */
  holder: string;
  /** Called inside the run's transaction just before it commits (tests kill runs here). */
  beforeCommit?: (tx: Queryable) => Promise<void>;
}

let runs = 0;

/** One run, inside the caller's transaction (`tx` must be one, holding the lock). */
export async function aggregateIn(tx: Queryable, options: RunOptions): Promise<RunResult> {
  const started = performance.now();
  const result = { readings: 0, hourlyRows: 0, dailyRows: 0 };
  // Unique within this process, and time-based across processes: a claim mark only lives
  // inside one transaction, so it only has to differ from runs in flight, of which there
  // is one.
  const run = Date.now() * 1000 + (runs++ % 1000);
  for (const kind of KINDS) {
    for (const statement of aggregateStatements(kind, options.claim)) {
      const params = statement.params.map((name) => (name === "limit" ? options.limit : run));
      // Prepared: the daily rollup's text is long, and the same few statements run every run.
      const [row] = await tx.unsafe<{ readings: string; hourly_rows: string; daily_rows: string }[]>(
        statement.text,
        params,
        { prepare: true },
      );
      if (row?.readings === undefined) continue;
      result.readings += Number(row.readings);
      result.hourlyRows += Number(row.hourly_rows);
      result.dailyRows += Number(row.daily_rows);
    }
  }
  await tx`
    update rollup_aggregator
    set holder = ${options.holder}, last_run_at = clock_timestamp(), last_run_readings = ${result.readings}
    where id = 1
  `;
  await options.beforeCommit?.(tx);
  return { ...result, durationMs: performance.now() - started };
}

/**
 * One run now, for tests and tools: in its own transaction, under the aggregator's lock.
 * Answers undefined when another aggregator holds it (the running service's, say).
 */
export async function aggregateOnce(sql: Sql, options: Partial<RunOptions> = {}): Promise<RunResult | undefined> {
  return sql.begin(async (tx) => {
    const [lock] = await tx<{ acquired: boolean }[]>`select pg_try_advisory_xact_lock(${AGGREGATOR_LOCK}) as acquired`;
    if (!lock?.acquired) return undefined;
    return aggregateIn(tx, { limit: 100_000, claim: "delete", holder: "manual", ...options });
  });
}

export interface AggregatorOptions {
  sql: Sql;
  /** Pause between runs while holding the lock. */
  intervalMs: number;
  /** Pause between attempts to take the lock while another instance holds it. */
  takeoverMs: number;
  limit: number;
  claim: Claim;
  holder: string;
  log?: Logger;
  /** Vacuum the pending tables after this many readings moved (VACUUM_AFTER_READINGS). */
  vacuumAfterReadings?: number;
  onRun?: (result: RunResult) => void;
  onError?: (error: unknown) => void;
}

export class Aggregator {
  private session: ReservedSql | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private current: Promise<void> = Promise.resolve();
  private isStopped = false;
  private movedSinceVacuum = 0;
  private lastVacuumAt = performance.now();

  constructor(private readonly options: AggregatorOptions) {}

  /** Whether this instance holds the lock and runs the aggregation. */
  get isLeader(): boolean {
    return this.session !== undefined;
  }

  start(): void {
    this.isStopped = false;
    this.schedule(0);
  }

  /** Stops after the run in flight, and gives the lock up for another instance to take. */
  async stop(): Promise<void> {
    this.isStopped = true;
    clearTimeout(this.timer);
    await this.current;
    await this.resign();
  }

  private schedule(delayMs: number): void {
    if (this.isStopped) return;
    this.timer = setTimeout(() => {
      this.current = this.tick().then((delay) => this.schedule(delay));
    }, delayMs);
    this.timer.unref?.();
  }

  /** One step: take the lock if free, run if held. Answers how long to wait before the next. */
  private async tick(): Promise<number> {
    const { options } = this;
    try {
      if (!this.session && !(await this.elect())) return options.takeoverMs;
      const session = this.session as ReservedSql;
      const result = await this.runOn(session);
      options.onRun?.(result);
      await this.vacuumIfDue(session, result.readings);
      if (result.readings > 0) options.log?.debug(result, "rollups aggregated");
      // A full run means more is waiting: go on at once.
      return result.readings >= options.limit ? 0 : options.intervalMs;
    } catch (error) {
      options.onError?.(error);
      options.log?.error({ err: error }, "rollup aggregation failed; retrying");
      // The lock may have gone with the connection: start again from the election.
      await this.resign();
      return options.takeoverMs;
    }
  }

  private async elect(): Promise<boolean> {
    const session = await this.options.sql.reserve();
    try {
      const [lock] = await session<{ acquired: boolean }[]>`
        select pg_try_advisory_lock(${AGGREGATOR_LOCK}) as acquired
      `;
      if (lock?.acquired) {
        this.session = session;
        this.options.log?.info({ holder: this.options.holder }, "this instance now aggregates the rollups");
        return true;
      }
    } catch (error) {
      session.release();
      throw error;
    }
    session.release();
    return false;
  }

  private async runOn(session: ReservedSql): Promise<RunResult> {
    await session`begin`;
    try {
      const result = await aggregateIn(session, this.options);
      await session`commit`;
      return result;
    } catch (error) {
      await session`rollback`.catch(() => {});
      throw error;
    }
  }

  private async vacuumIfDue(session: ReservedSql, moved: number): Promise<void> {
    this.movedSinceVacuum += moved;
    const isDue =
      this.movedSinceVacuum >= (this.options.vacuumAfterReadings ?? VACUUM_AFTER_READINGS) ||
      (this.movedSinceVacuum > 0 && performance.now() - this.lastVacuumAt >= VACUUM_AFTER_MS);
    if (!isDue) return;
    this.movedSinceVacuum = 0;
    this.lastVacuumAt = performance.now();
    // Outside any transaction; skips a partition someone else holds rather than wait. A
    // failure (a role that does not own the tables, say) costs only speed: autovacuum
    // still comes round, so it is logged, and aggregation goes on.
    await session`vacuum (skip_locked) meter_pending, vehicle_pending`.catch((error) => {
      this.options.log?.warn({ err: error }, "could not vacuum the pending tables; autovacuum will");
    });
  }

  private async resign(): Promise<void> {
    const session = this.session;
    if (!session) return;
    this.session = undefined;
    await session`select pg_advisory_unlock(${AGGREGATOR_LOCK})`.catch(() => {});
    session.release();
  }
}
