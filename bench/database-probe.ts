// What the bench asks the database directly, beside the service: the readings in the cold
// store (meter_telemetry + vehicle_telemetry, every partition) for the check that every
// 2xx answer was really committed and nothing else was, and that the hourly rollups (with
// what is still pending for them) count every one of them; the server's version for the
// report; and a pause for the database to settle between scenarios.
import postgres from "postgres";

export async function countStoredRows(databaseUrl: string): Promise<number> {
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  try {
    const [row] = await sql<{ rows: string }[]>`
      select (select count(*) from meter_telemetry) + (select count(*) from vehicle_telemetry) as rows`;
    return Number(row?.rows ?? Number.NaN);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

export interface RollupCount {
  /** Readings in the cold store. */
  rawRows: number;
  /** Readings the hourly rollups count (sum of `readings`, meters and vehicles). */
  rolledUp: number;
  /** Readings still waiting for the aggregator (0 where there are no pending tables). */
  pending: number;
}

/** The raw rows, the hourly rollups' readings and the pending ones, in one snapshot. */
export async function countRollupReadings(databaseUrl: string): Promise<RollupCount> {
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  try {
    const [tables] = await sql<{ hasPending: boolean }[]>`
      select to_regclass('meter_pending') is not null and to_regclass('vehicle_pending') is not null as "hasPending"`;
    const pending = tables?.hasPending
      ? "(select count(*) from meter_pending) + (select count(*) from vehicle_pending)"
      : "0";
    const [row] = await sql.unsafe<{ raw: string; rolled: string; pending: string }[]>(`
      select (select count(*) from meter_telemetry) + (select count(*) from vehicle_telemetry) as raw,
             (select coalesce(sum(readings), 0) from meter_hourly)
               + (select coalesce(sum(readings), 0) from vehicle_hourly) as rolled,
             ${pending} as pending`);
    return { rawRows: Number(row?.raw), rolledUp: Number(row?.rolled), pending: Number(row?.pending) };
  } finally {
    await sql.end({ timeout: 5 });
  }
}

export async function readPostgresVersion(databaseUrl: string): Promise<string> {
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  try {
    const [row] = await sql<{ version: string }[]>`select version()`;
    return row?.version ?? "unknown";
  } finally {
    await sql.end({ timeout: 5 });
  }
}

const SETTLE_LIMIT_MS = 60_000;

/**
 * Lets the database settle before a scenario, so it is not measured while PostgreSQL is
 * still busy with the previous one's data: waits (up to a minute) for autovacuum workers
 * to finish (a burst of millions of rows sets them off), then flushes the dirty pages with
 * a CHECKPOINT, as pgbench does. CHECKPOINT needs a superuser, which the embedded
 * database's `fleet` is; elsewhere it is skipped. Answers what was done, for the log.
 */
export async function settleDatabase(databaseUrl: string): Promise<string> {
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  try {
    const start = Date.now();
    const countWorkers = async () => {
      const [row] = await sql<{ workers: number }[]>`
        select count(*)::int as workers from pg_stat_activity where backend_type = 'autovacuum worker'`;
      return row?.workers ?? 0;
    };
    while ((await countWorkers()) > 0 && Date.now() - start < SETTLE_LIMIT_MS) await Bun.sleep(500);
    const waited = `waited ${((Date.now() - start) / 1000).toFixed(1)} s for autovacuum`;
    const isCheckpointed = await sql`checkpoint`.then(
      () => true,
      () => false,
    );
    return `${waited}, ${isCheckpointed ? "checkpoint done" : "CHECKPOINT refused (not a superuser)"}`;
  } finally {
    await sql.end({ timeout: 5 });
  }
}
