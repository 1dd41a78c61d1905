// A PostgreSQL of the crash test's own (fsync on: the test is about durability) and the app wired to
// it as production wires it (group commit, Bun.serve, one postgres.js pool): start, SIGKILL the
// postmaster, restart on the same data directory, read back what it holds, and tear it all down,
// even while a scenario the runner gave up on is still running.
import { existsSync, readdirSync, readFileSync, readlinkSync, realpathSync } from "node:fs";
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createApp } from "../../src/app.ts";
import { createDb, createSql, type Sql } from "../../src/db/client.ts";
import { ensureDatabase } from "../../src/db/database.ts";
import {
  type EmbeddedPostgres,
  type EmbeddedPostgresOptions,
  startEmbeddedPostgres,
} from "../../src/db/embedded-postgres.ts";
import { applyMigrations } from "../../src/db/migrate.ts";
import { Partitions } from "../../src/partitions/partitions.ts";
import { createGroupCommitWriter } from "../../src/telemetry/group-commit-writer.ts";
import type { TelemetryWriter } from "../../src/telemetry/writer.ts";
import { type Attempt, requestFor, type Send } from "./crash-ledger.ts";
import { freePort } from "./server.ts";

/** No answer within this long is a hang. */
export const HANG_MS = 10_000;

/**
 * The cluster's processes, found by their working directory (PostgreSQL runs in its data directory),
 * so backends orphaned by the postmaster's death are found too.
 */
function clusterProcesses(dataDir: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readlinkSync(`/proc/${entry}/cwd`) !== dataDir) continue;
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
      if (state !== "Z" && state !== "X") found.push(Number(entry));
    } catch {
      // gone while we looked, or not ours to read
    }
  }
  return found;
}

export interface Running {
  pgOptions: EmbeddedPostgresOptions;
  /** The data directory, resolved as /proc shows it. */
  dataDir: string;
  sql: Sql;
  writer: TelemetryWriter;
  http: ReturnType<typeof Bun.serve>;
  origin: string;
  /** Errors that reached the app's 500 path. */
  unexpected: unknown[];
}

export class CrashCluster {
  private scratch: string | undefined;
  private server: EmbeddedPostgres | undefined;
  /** Filled in as start() goes, so teardown stops whatever was started before a failure. */
  private readonly parts: Partial<Running> = {};
  private scenario: Promise<void> | undefined;
  /** Set by teardown: a body still running (the runner gave up on it) must stop, not restart servers. */
  isTornDown = false;

  /** `now` is the app's clock; `since`, the oldest reading's instant, whose month gets its partitions. */
  constructor(private readonly clock: { now: Date; since: Date }) {}

  /** Runs the scenario, keeping hold of it so teardown can let a body the runner gave up on end first. */
  run(scenario: (cluster: CrashCluster) => Promise<void>): Promise<void> {
    this.scenario = scenario(this);
    return this.scenario;
  }

  /** What start() built; throws before it. */
  get live(): Running {
    if (this.parts.origin === undefined) throw new Error("the cluster was not started");
    return this.parts as Running;
  }

  /** A server of our own, migrated, with partitions for the readings, and the app serving over HTTP. */
  async start() {
    const { now, since } = this.clock;
    this.scratch = await mkdtemp(join(tmpdir(), "fleet-crash-"));
    await chmod(this.scratch, 0o755); // reachable by the account PostgreSQL runs as under root
    const parts = this.parts;
    parts.pgOptions = { dataDir: join(this.scratch, "pg"), port: await freePort() }; // fsync stays on
    this.server = await startEmbeddedPostgres(parts.pgOptions);
    parts.dataDir = realpathSync(this.server.dataDir);
    const url = await ensureDatabase(this.server.url, "fleet");
    const sql = createSql({ url, poolSize: 10, connectTimeoutSeconds: 2 });
    parts.sql = sql;
    const db = createDb(sql);
    await applyMigrations(sql, db);
    const partitions = new Partitions(sql);
    await partitions.createAhead(now, 2);
    await partitions.ensure("meter_telemetry", [since]);
    await partitions.ensure("vehicle_telemetry", [since]);
    const writer = createGroupCommitWriter(sql, partitions, {
      maxQueued: 50_000,
      maxFlush: 5_000,
      flushConcurrency: 2,
    });
    parts.writer = writer;
    const unexpected: unknown[] = [];
    parts.unexpected = unexpected;
    const app = createApp({
      sql,
      db,
      writer,
      partitions,
      now: () => now,
      onUnexpectedError: (error) => {
        unexpected.push(error);
        console.error("unexpected error reached the 500 path:", error);
      },
    });
    parts.http = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: app.fetch });
    parts.origin = `http://127.0.0.1:${parts.http.port}`;
  }

  get pidFile() {
    return join(this.live.dataDir, "postmaster.pid");
  }

  /** The postmaster's pid, from the lock file it keeps in its data directory. */
  postmasterPid() {
    return Number(readFileSync(this.pidFile, "utf8").split("\n")[0]);
  }

  /** Whether postmaster.pid is there (it stays behind a killed server). */
  hasPidFile() {
    return existsSync(this.pidFile);
  }

  /** The cluster's processes still alive, orphaned backends included. */
  processes() {
    return clusterProcesses(this.live.dataDir);
  }

  /** Starts PostgreSQL again on the same data directory, whatever the crash left there. */
  async restart() {
    try {
      this.server = await startEmbeddedPostgres(this.live.pgOptions);
    } catch (error) {
      throw new Error(`PostgreSQL did not restart on the data directory the crash left: ${error}`);
    }
  }

  /** Polls until probe answers something, failing after deadlineMs or once torn down. */
  async until<T>(what: string, deadlineMs: number, probe: () => Promise<T | undefined> | T | undefined) {
    const deadline = performance.now() + deadlineMs;
    for (;;) {
      if (this.isTornDown) throw new Error(`${what}: the test was torn down`);
      const value = await probe();
      if (value !== undefined) return value;
      if (performance.now() > deadline) throw new Error(`${what}: not within ${deadlineMs} ms`);
      await Bun.sleep(25);
    }
  }

  /** POSTs the send's readings over HTTP and records how the server answered (or did not). */
  async post(send: Send, isRetry: boolean): Promise<Attempt> {
    const { path, contentType, body } = requestFor(send);
    const startedAt = performance.now();
    try {
      const response = await fetch(this.live.origin + path, {
        method: "POST",
        headers: { "content-type": contentType },
        body,
        signal: AbortSignal.timeout(HANG_MS),
      });
      const text = await response.text();
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {}
      return {
        startedAt,
        endedAt: performance.now(),
        status: response.status,
        retryAfter: response.headers.get("retry-after"),
        body: parsed,
        text,
        isRetry,
      };
    } catch (error) {
      const isTimeout = (error as Error)?.name === "TimeoutError" || (error as Error)?.name === "AbortError";
      return {
        startedAt,
        endedAt: performance.now(),
        status: isTimeout ? "timeout" : "error",
        retryAfter: null,
        body: undefined,
        text: String(error),
        isRetry,
      };
    }
  }

  /** GET /readyz's status, or -1 without an answer. */
  async readyz(): Promise<number> {
    try {
      const response = await fetch(`${this.live.origin}/readyz`, { signal: AbortSignal.timeout(HANG_MS) });
      await response.text();
      return response.status;
    } catch {
      return -1;
    }
  }

  /** Whether no request is still running on the server and nothing waits to be written. */
  isIdle() {
    return this.live.http.pendingRequests === 0 && this.live.writer.queued() === 0;
  }

  /** Every stored reading's key, device|epoch milliseconds, once per row. */
  async coldKeys() {
    const rows = await this.live.sql<{ key: string }[]>`
      select meter_id::text || '|' || (extract(epoch from recorded_at) * 1000)::bigint as key from meter_telemetry
      union all
      select vehicle_id::text || '|' || (extract(epoch from recorded_at) * 1000)::bigint from vehicle_telemetry
    `;
    return rows.map((row) => row.key);
  }

  /** Every stored row's device, instant and values (a, b and, for vehicles, c in table order). */
  async coldRows() {
    const { sql } = this.live;
    const meterRows = await sql<{ device: string; at: number; a: number; b: number }[]>`
      select meter_id::text as device, (extract(epoch from recorded_at) * 1000)::float8 as at,
             kwh_consumed_ac as a, voltage as b
      from meter_telemetry
    `;
    const vehicleRows = await sql<{ device: string; at: number; a: number; b: number; c: number }[]>`
      select vehicle_id::text as device, (extract(epoch from recorded_at) * 1000)::float8 as at,
             soc as a, kwh_delivered_dc as b, battery_temp as c
      from vehicle_telemetry
    `;
    return [...meterRows, ...vehicleRows];
  }

  /** Devices whose hot row is not their newest history row. */
  async hotMismatches() {
    return [
      ...(await this.live.sql`
        select 'meter' as kind, s.meter_id::text as device from meter_state s
        left join lateral (
          select * from meter_telemetry c where c.meter_id = s.meter_id order by recorded_at desc limit 1
        ) c on true
        where c.meter_id is null or (s.kwh_consumed_ac, s.voltage, s.last_updated)
          is distinct from (c.kwh_consumed_ac, c.voltage, c.recorded_at)
        union all
        select 'vehicle', s.vehicle_id::text from vehicle_state s
        left join lateral (
          select * from vehicle_telemetry c where c.vehicle_id = s.vehicle_id order by recorded_at desc limit 1
        ) c on true
        where c.vehicle_id is null or (s.soc, s.kwh_delivered_dc, s.battery_temp, s.last_updated)
          is distinct from (c.soc, c.kwh_delivered_dc, c.battery_temp, c.recorded_at)
      `),
    ];
  }

  /** Devices with a hot row. */
  async hotDevices() {
    const [hot] = await this.live.sql<{ devices: number }[]>`
      select (select count(*) from meter_state)::int + (select count(*) from vehicle_state)::int as devices
    `;
    return hot?.devices;
  }

  /** Stops everything started, whatever state the scenario left it in, and removes its files. */
  async tearDown() {
    this.isTornDown = true;
    // An uncaught error fails the test at once, but its body keeps running: let it end first.
    await Promise.race([this.scenario?.catch(() => {}), Bun.sleep(20_000)]);
    const { http, writer, sql, dataDir } = this.parts;
    http?.stop(true);
    await Promise.race([writer?.close(), Bun.sleep(5_000)]);
    await sql?.end({ timeout: 1 }).catch(() => {});
    await this.server?.stop().catch(() => {});
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
    if (this.scratch) await rm(this.scratch, { recursive: true, force: true });
  }
}
