// The rollups' backlog: the pending readings and the age of the oldest one, read with the
// service's own query (src/rollups/backlog.ts) on the database when the bench knows it,
// else from GET /v1/admin/stats (whose ingestion-lag figure scans an hour of raw rows:
// after a burst that takes seconds and loads the machine it measures), and the
// aggregator's counters from /metrics. Readings are acknowledged once stored, and the
// aggregator adds them to the hourly and daily rollups afterwards, so a burst's rate is
// only sustainable if the backlog it leaves empties: the bench waits for that after every
// load and counts the wait. A service without these figures (one that updates its rollups
// inside each request) reads as nothing pending and no aggregator counters.

import { createSql, type Sql } from "../src/db/client.ts";
import { rollupBacklog } from "../src/rollups/backlog.ts";

export interface BacklogContext {
  url: string;
  headers: Record<string, string>;
  /** The service's database, read directly when given. */
  databaseUrl?: string;
}

export interface Backlog {
  pendingReadings: number;
  oldestPendingSeconds: number;
  /** False when the stats carry no `rollups` at all: nothing is ever pending there. */
  isReported: boolean;
}

const POLL_MS = 100;

const connections = new Map<string, Sql>();

/** One small pool per database, kept for the bench's lifetime (polled every 100 ms). */
function databaseOf(url: string): Sql {
  let sql = connections.get(url);
  if (!sql) {
    sql = createSql({ url, poolSize: 1, connectTimeoutSeconds: 10 });
    connections.set(url, sql);
  }
  return sql;
}

/** Closes the connections the backlog reads opened. */
export async function closeBacklogReads(): Promise<void> {
  await Promise.all([...connections.values()].map((sql) => sql.end({ timeout: 1 })));
  connections.clear();
}

export async function readBacklog(context: BacklogContext): Promise<Backlog> {
  if (context.databaseUrl) {
    const sql = databaseOf(context.databaseUrl);
    const [tables] = await sql<{ present: boolean }[]>`select to_regclass('meter_pending') is not null as present`;
    if (!tables?.present) return { pendingReadings: 0, oldestPendingSeconds: 0, isReported: false };
    const backlog = await rollupBacklog(sql);
    return { ...backlog, isReported: true };
  }
  const response = await fetch(`${context.url}/v1/admin/stats`, { headers: context.headers });
  if (!response.ok) throw new Error(`GET /v1/admin/stats answered ${response.status}: ${await response.text()}`);
  const stats = (await response.json()) as { rollups?: { pendingReadings?: number; oldestPendingSeconds?: number } };
  return {
    pendingReadings: stats.rollups?.pendingReadings ?? 0,
    oldestPendingSeconds: stats.rollups?.oldestPendingSeconds ?? 0,
    isReported: stats.rollups !== undefined,
  };
}

export interface Drain {
  /** Seconds from the call (the end of a load) until the poll that found nothing pending was sent. */
  seconds: number;
  /** When that poll was sent (performance.now()); undefined if none found the backlog empty. */
  emptyAt?: number;
  /** Pending readings at the first poll, right after the load. */
  pendingAtStart: number;
  /** The slowest answer of the stats, in seconds: how finely the drain could be timed. */
  slowestPollSeconds: number;
}

/**
 * Polls the backlog every 100 ms (or as fast as the stats answer, when they take longer)
 * until nothing is pending, for at most `limitMs`. The drain ends when the poll that found
 * the backlog empty was sent, not answered: the stats also read an hour of raw rows (the
 * ingestion lag), which after a burst takes longer than the backlog query itself.
 */
export async function waitForDrain(context: BacklogContext, limitMs: number): Promise<Drain> {
  const start = performance.now();
  let pendingAtStart: number | undefined;
  let slowestPollSeconds = 0;
  for (;;) {
    const sentAt = performance.now();
    const backlog = await readBacklog(context);
    const answeredAt = performance.now();
    slowestPollSeconds = Math.max(slowestPollSeconds, (answeredAt - sentAt) / 1000);
    pendingAtStart ??= backlog.pendingReadings;
    if (backlog.pendingReadings === 0) {
      return { seconds: (sentAt - start) / 1000, emptyAt: sentAt, pendingAtStart, slowestPollSeconds };
    }
    if (answeredAt - start >= limitMs) return { seconds: Number.NaN, pendingAtStart, slowestPollSeconds };
    await Bun.sleep(Math.max(0, POLL_MS - (answeredAt - sentAt)));
  }
}

/** The aggregator's counters: readings it added to the rollups, and the rows it updated. */
export interface RollupCounters {
  readings: number;
  rows: number;
}

/** Reads the counters from /metrics; undefined when the service has no aggregator metrics. */
export async function scrapeRollupCounters(context: BacklogContext): Promise<RollupCounters | undefined> {
  const response = await fetch(`${context.url}/metrics`, { headers: context.headers });
  if (!response.ok) return undefined;
  const text = await response.text();
  let readings: number | undefined;
  let rows: number | undefined;
  for (const line of text.split("\n")) {
    const match = /^(fleet_rollup_readings_total|fleet_rollup_rows_total)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!match) continue;
    const value = Number(match[3]);
    if (match[1] === "fleet_rollup_readings_total") readings = (readings ?? 0) + value;
    else rows = (rows ?? 0) + value; // summed over the tables (hourly, daily)
  }
  // prom-client prints a counter without labels even before its first increment, but a
  // labelled one only once it has a label set: no rows yet is zero rows.
  return readings === undefined ? undefined : { readings, rows: rows ?? 0 };
}

/** Readings folded into each rollup row between two scrapes: NaN without counters or rows. */
export function computeFolding(before: RollupCounters | undefined, after: RollupCounters | undefined): number {
  if (!before || !after) return Number.NaN;
  const rows = after.rows - before.rows;
  return rows > 0 ? (after.readings - before.readings) / rows : Number.NaN;
}

/** Samples the age of the oldest pending reading every `everyMs` until stopped. */
export function sampleOldestPending(context: BacklogContext, everyMs: number) {
  return sampleBacklog(context, everyMs, (backlog) => backlog.oldestPendingSeconds);
}

/** Samples one figure of the backlog every `everyMs` until stopped. */
export function sampleBacklog(context: BacklogContext, everyMs: number, pick: (backlog: Backlog) => number) {
  const samples: number[] = [];
  let failures = 0;
  let isStopped = false;
  const loop = (async () => {
    while (!isStopped) {
      const started = performance.now();
      try {
        samples.push(pick(await readBacklog(context)));
      } catch {
        failures += 1;
      }
      await Bun.sleep(Math.max(0, everyMs - (performance.now() - started)));
    }
  })();
  return {
    stop: async () => {
      isStopped = true;
      await loop;
      return { samples, failures };
    },
  };
}
