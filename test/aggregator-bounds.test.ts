// The aggregator's runs are bounded in time: a statement past ROLLUP_STATEMENT_TIMEOUT_MS fails and the
// next run succeeds, a holder whose runs stick loses the lock to another instance, and stopping (in
// process, or the service on SIGTERM) cancels a run in flight at once, leaving no backend running it
// and the lock free. A run is held up here the way a real one can be: by a lock another session holds.
import { describe, expect, it } from "bun:test";
import type { ReservedSql } from "postgres";
import { AGGREGATOR_LOCK, Aggregator, aggregateOnce, type RunResult } from "../src/rollups/aggregator.ts";
import { useTestApp } from "./support/database.ts";
import { meterReading, newId, postJson } from "./support/http.ts";
import { startService } from "./support/service.ts";

const t = useTestApp();

async function eventually(condition: () => boolean | Promise<boolean>, ms = 10_000) {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms`);
    await Bun.sleep(20);
  }
}

const pendingMeters = async () => {
  const [row] = await t.database.sql<{ count: number }[]>`select count(*)::int as count from meter_pending`;
  return row?.count ?? 0;
};

async function sendMeterReadings(count: number) {
  const meterId = newId();
  const minute = (i: number) => new Date(Date.parse("2026-03-15T10:00:00Z") + i * 60_000).toISOString();
  const meters = Array.from({ length: count }, (_, i) => meterReading({ meterId, timestamp: minute(i) }));
  expect((await postJson(t.app, "/v1/telemetry/batch", { meters })).status).toBe(201);
}

/** Holds `meter_daily` locked against writes until released: every run adding meter readings waits. */
async function lockMeterDaily(): Promise<{ release: () => Promise<void> }> {
  const session: ReservedSql = await t.database.sql.reserve();
  await session`begin`;
  await session`lock table meter_daily in exclusive mode`;
  return {
    async release() {
      await session`rollback`;
      session.release();
    },
  };
}

/** Backends now running (or waiting in) the aggregator's meter statement. */
async function runningMeterClaims(): Promise<number> {
  const [row] = await t.database.sql<{ count: number }[]>`
    select count(*)::int as count from pg_stat_activity
    where datname = current_database() and state = 'active' and pid <> pg_backend_pid()
      and query like 'with stored as (%delete from meter_pending%'
  `;
  return row?.count ?? 0;
}

const isLockHeld = async () => {
  const [row] = await t.database.sql<{ held: boolean }[]>`
    select exists (
      select 1 from pg_locks
      where locktype = 'advisory' and objid = ${AGGREGATOR_LOCK} and granted
        and database = (select oid from pg_database where datname = current_database())
    ) as held
  `;
  return row?.held ?? false;
};

function aggregator(
  holder: string,
  statementTimeoutMs: number,
  extra: { runs?: RunResult[]; errors?: unknown[] } = {},
) {
  return new Aggregator({
    sql: t.database.sql,
    intervalMs: 30,
    takeoverMs: 100,
    limit: 1_000,
    claim: "delete",
    holder,
    statementTimeoutMs,
    onRun: (run) => extra.runs?.push(run),
    onError: (error) => extra.errors?.push(error),
  });
}

const isStatementTimeout = (error: unknown) =>
  (error as { code?: string }).code === "57014" && /statement timeout/.test(String(error));

describe("aggregator runs under a statement timeout", () => {
  it("fails a run past the timeout, and succeeds with the next one", async () => {
    await sendMeterReadings(5);
    const blocker = await lockMeterDaily();
    const [runs, errors]: [RunResult[], unknown[]] = [[], []];
    const worker = aggregator("timed", 300, { runs, errors });
    worker.start();
    try {
      await eventually(() => errors.some(isStatementTimeout));
      expect(await pendingMeters()).toBe(5);
      await blocker.release();
      await eventually(async () => (await pendingMeters()) === 0);
      expect(runs.reduce((sum, run) => sum + run.readings, 0)).toBe(5);
    } finally {
      await blocker.release().catch(() => {});
      await worker.stop();
    }
  });

  it("takes the lock from a holder whose runs stick, and aggregates in its place", async () => {
    const errors: unknown[] = [];
    const stuck = new Aggregator({
      sql: t.database.sql,
      intervalMs: 30,
      takeoverMs: 100,
      limit: 1_000,
      claim: "delete",
      holder: "stuck",
      statementTimeoutMs: 300,
      onError: (error) => errors.push(error),
      // Every run of this one hangs just before it commits, as a stalled statement would.
      beforeCommit: async (tx) => {
        await tx`select pg_sleep(600)`;
      },
    });
    const standby = aggregator("standby", 5_000);
    stuck.start();
    await eventually(() => stuck.isLeader);
    standby.start();
    try {
      await sendMeterReadings(5);
      await eventually(async () => standby.isLeader && (await pendingMeters()) === 0);
      expect(errors.some(isStatementTimeout)).toBe(true);
      const [holder] = await t.database.sql`select holder from rollup_aggregator`;
      expect(holder?.holder).toBe("standby");
    } finally {
      await Promise.all([stuck.stop(), standby.stop()]);
    }
  });
});

describe("stopping the aggregator", () => {
  it("cancels a run in flight at once, leaving no backend running it and the lock free", async () => {
    await sendMeterReadings(5);
    const blocker = await lockMeterDaily();
    const worker = aggregator("stopping", 60_000);
    worker.start();
    try {
      await eventually(async () => (await runningMeterClaims()) === 1);
      const started = performance.now();
      await worker.stop();
      // Within the bound stop() promises (two grace periods), whatever the cancel costs.
      expect(performance.now() - started).toBeLessThan(4_000);
      expect(await runningMeterClaims()).toBe(0);
      expect(await isLockHeld()).toBe(false);
    } finally {
      await blocker.release();
    }
    // The cancelled run left its readings pending, for the next one.
    expect(await pendingMeters()).toBe(5);
    expect(await aggregateOnce(t.database.sql)).toMatchObject({ readings: 5 });
  });

  it("lets the service exit 0 on SIGTERM in mid-run, with no backend left running it", async () => {
    const service = await startService({
      DATABASE_URL: t.database.url,
      ROLLUP_STATEMENT_TIMEOUT_MS: "600000",
      SHUTDOWN_TIMEOUT_SECONDS: "10",
    });
    const blocker = await lockMeterDaily();
    try {
      const reading = meterReading({ timestamp: new Date().toISOString() });
      const stored = await fetch(`${service.base}/v1/telemetry/meter`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(reading),
      });
      expect(stored.status).toBe(201);
      await eventually(async () => (await runningMeterClaims()) === 1);
      service.child.kill("SIGTERM");
      expect(await service.child.exited).toBe(0);
      expect(await runningMeterClaims()).toBe(0);
      expect(await isLockHeld()).toBe(false);
    } finally {
      await blocker.release();
    }
  }, 60_000);
});
