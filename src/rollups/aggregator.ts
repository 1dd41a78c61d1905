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
//
// Every statement runs under the bounds of src/rollups/run-bounds.ts: no plan can make a
// run quadratic, and a statement that sticks times out. A failed run gives the lock up and
// steps back for two takeover intervals, so a standby instance takes over first; its next
// leadership plans every statement afresh. `stop()` cancels a run in flight rather than
// waiting for it, and ends the run's backend if the cancel is not heard.
import type { ReservedSql } from "postgres";
import { DEFAULT_ROLLUP_STATEMENT_TIMEOUT_MS } from "../config.ts";
import type { Queryable, Sql } from "../db/client.ts";
import type { Logger } from "../log.ts";
import { aggregateStatements, type Claim, type Kind } from "./rollup-sql.ts";
import { applyRunBounds, resetRunBounds, runCancellable, settlesWithin } from "./run-bounds.ts";

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
/** How long `stop()` waits for a cancelled run to end, and then for its ended backend. */
const STOP_GRACE_MS = 2_000;

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
  /** Ends the run: the statement in flight is cancelled, and no other is sent. */
  signal?: AbortSignal;
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
      const [row] = await runCancellable(
        tx.unsafe<{ readings: string; hourly_rows: string; daily_rows: string }[]>(statement.text, params, {
          prepare: true,
        }),
        options.signal,
      );
      if (row?.readings === undefined) continue;
      result.readings += Number(row.readings);
      result.hourlyRows += Number(row.hourly_rows);
      result.dailyRows += Number(row.daily_rows);
    }
  }
  await runCancellable(
    tx`
      update rollup_aggregator
      set holder = ${options.holder}, last_run_at = clock_timestamp(), last_run_readings = ${result.readings}
      where id = 1
    `,
    options.signal,
  );
  await options.beforeCommit?.(tx);
  return { ...result, durationMs: performance.now() - started };
}

/**
 * One run now, for tests and tools: in its own transaction, under the aggregator's lock.
 * Answers undefined when another aggregator holds it (the running service's, say).
 */
export async function aggregateOnce(
  sql: Sql,
  options: Partial<RunOptions> & { statementTimeoutMs?: number } = {},
): Promise<RunResult | undefined> {
  return sql.begin(async (tx) => {
    const [lock] = await tx<{ acquired: boolean }[]>`select pg_try_advisory_xact_lock(${AGGREGATOR_LOCK}) as acquired`;
    if (!lock?.acquired) return undefined;
    await applyRunBounds(tx, options.statementTimeoutMs ?? DEFAULT_ROLLUP_STATEMENT_TIMEOUT_MS, true);
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
  /** The longest any of its statements may run (DEFAULT_ROLLUP_STATEMENT_TIMEOUT_MS). */
  statementTimeoutMs?: number;
  log?: Logger;
  /** Vacuum the pending tables after this many readings moved (VACUUM_AFTER_READINGS). */
  vacuumAfterReadings?: number;
  onRun?: (result: RunResult) => void;
  onError?: (error: unknown) => void;
  /** Called in each run's transaction just before it commits (tests stall runs here). */
  beforeCommit?: (tx: Queryable) => Promise<void>;
}

export class Aggregator {
  private session: ReservedSql | undefined;
  /** The lock holder's backend, ended from the pool when a cancel goes unheard. */
  private backendPid: number | undefined;
  private stopping = new AbortController();
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
    this.stopping = new AbortController();
    this.schedule(0);
  }

  /**
   * Stops at once: a run in flight is cancelled (its readings stay pending, for whoever
   * aggregates next) and the lock is given up for another instance to take. Returns
   * within about twice STOP_GRACE_MS even when the database does not answer.
   */
  async stop(): Promise<void> {
    this.isStopped = true;
    clearTimeout(this.timer);
    this.stopping.abort();
    if (!(await settlesWithin(this.current, STOP_GRACE_MS))) {
      // The cancel was not heard (it travels on a connection of its own): end the backend.
      await settlesWithin(this.terminateBackend(), STOP_GRACE_MS);
      if (!(await settlesWithin(this.current, STOP_GRACE_MS))) {
        this.options.log?.error("the rollup run did not end when stopped; leaving its connection to the pool's end");
        this.session = undefined;
        return;
      }
    }
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
      // The lock may have gone with the connection: start again from the election.
      await this.resign();
      if (this.isStopped) {
        options.log?.info("rollup run cancelled: this instance is stopping");
        return 0;
      }
      options.onError?.(error);
      options.log?.error({ err: error }, "rollup aggregation failed; giving the lock up and retrying");
      // Two takeover intervals: another instance, trying every one, takes over first.
      return 2 * options.takeoverMs;
    }
  }

  private async elect(): Promise<boolean> {
    const session = await this.options.sql.reserve();
    try {
      const [lock] = await session<{ acquired: boolean; pid: number }[]>`
        select pg_try_advisory_lock(${AGGREGATOR_LOCK}) as acquired, pg_backend_pid() as pid
      `;
      if (!lock?.acquired) {
        session.release();
        return false;
      }
      this.session = session;
      this.backendPid = lock.pid;
    } catch (error) {
      session.release();
      throw error;
    }
    // Plans this connection cached before (in an earlier leadership, maybe one whose run
    // failed) are made afresh, and every statement from here on is bounded.
    await session`discard plans`;
    await applyRunBounds(session, this.options.statementTimeoutMs ?? DEFAULT_ROLLUP_STATEMENT_TIMEOUT_MS, false);
    this.options.log?.info({ holder: this.options.holder }, "this instance now aggregates the rollups");
    return true;
  }

  private async runOn(session: ReservedSql): Promise<RunResult> {
    await runCancellable(session`begin`, this.stopping.signal);
    try {
      const result = await aggregateIn(session, { ...this.options, signal: this.stopping.signal });
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
    // Outside any transaction; skips a partition someone else holds rather than wait. No
    // truncation: it needs an exclusive lock, which any write in flight holds off for the
    // 5 s PostgreSQL then waits, stalling the runs; the space is reused as pending refills.
    // A failure (a role that does not own the tables, say) costs only speed: autovacuum
    // still comes round, so it is logged, and aggregation goes on.
    await runCancellable(
      session`vacuum (skip_locked, truncate false) meter_pending, vehicle_pending`,
      this.stopping.signal,
    ).catch((error) => {
      if (this.isStopped) return;
      this.options.log?.warn({ err: error }, "could not vacuum the pending tables; autovacuum will");
    });
  }

  private async terminateBackend(): Promise<void> {
    if (this.backendPid === undefined) return;
    await this.options.sql`select pg_terminate_backend(${this.backendPid})`.catch(() => {});
  }

  /** Gives the lock up; the connection goes back to the pool as it came. */
  private async resign(): Promise<void> {
    const session = this.session;
    if (!session) return;
    this.session = undefined;
    this.backendPid = undefined;
    await session`select pg_advisory_unlock(${AGGREGATOR_LOCK})`.catch(() => {});
    await resetRunBounds(session).catch(() => {});
    session.release();
  }
}
