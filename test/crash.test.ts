// The database killed mid-load. A PostgreSQL of this file's own (fsync on: this is about
// durability) takes concurrent single readings, JSON batches and NDJSON uploads through
// the app wired as production wires it (group commit, Bun.serve, one postgres.js pool);
// its postmaster is then SIGKILLed, load continues through the outage, and the server is
// restarted on the same data directory (stale postmaster.pid included). The service must
// answer 503 + Retry-After during the outage (never a 2xx, a 500 or a hang), recover by
// itself once the server is back, and have lost nothing it acknowledged: docs/design.md's
// invariant 1 ("nothing is acknowledged that a crash right after could lose"), 2 (a 503'd
// reading retried is stored once) and 3 (hot state = newest history).
import { afterAll, describe, expect, it } from "bun:test";
import { randomUUID } from "node:crypto";
import { existsSync, readdirSync, readFileSync, readlinkSync, realpathSync } from "node:fs";
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createApp } from "../src/app.ts";
import { createDb, createSql, type Sql } from "../src/db/client.ts";
import { ensureDatabase } from "../src/db/database.ts";
import { type EmbeddedPostgres, startEmbeddedPostgres } from "../src/db/embedded-postgres.ts";
import { applyMigrations } from "../src/db/migrate.ts";
import { Partitions } from "../src/partitions/partitions.ts";
import { createGroupCommitWriter } from "../src/telemetry/group-commit-writer.ts";
import type { TelemetryWriter } from "../src/telemetry/writer.ts";
import { freePort } from "./support/server.ts";

const NOW = new Date("2026-03-15T12:00:00Z");
const BASE = Date.parse("2026-03-14T00:00:00Z"); // every reading is in the past of the clock
const LOOPS = 16;
const HANG_MS = 10_000;
const RETRYABLE_CODES = ["database_unavailable", "write_failed", "overloaded"];

// ---------------------------------------------------------------------------------------
// What was sent and what came back
// ---------------------------------------------------------------------------------------

type Kind = "meter" | "vehicle";

interface Reading {
  kind: Kind;
  device: string;
  at: number;
  /** The stored columns, in table order after the device id. */
  values: number[];
}

interface Attempt {
  startedAt: number;
  endedAt: number;
  status: number | "timeout" | "error";
  retryAfter: string | null;
  // biome-ignore lint/suspicious/noExplicitAny: a response body has no static type
  body: any;
  text: string;
  isRetry: boolean;
}

type Format = "single" | "json" | "ndjson";

interface Send {
  readings: Reading[];
  format: Format;
  attempts: Attempt[];
  ack?: Attempt;
}

const keyOf = (device: string, at: number) => `${device}|${at}`;
const readingKey = (r: Reading) => keyOf(r.device, r.at);
const is2xx = (status: Attempt["status"]) => typeof status === "number" && status >= 200 && status < 300;

function readingJson(r: Reading, withType: boolean): Record<string, unknown> {
  const timestamp = new Date(r.at).toISOString();
  const type = withType ? { type: r.kind } : {};
  return r.kind === "meter"
    ? { ...type, meterId: r.device, kwhConsumedAc: r.values[0], voltage: r.values[1], timestamp }
    : {
        ...type,
        vehicleId: r.device,
        soc: r.values[0],
        kwhDeliveredDc: r.values[1],
        batteryTemp: r.values[2],
        timestamp,
      };
}

function request(send: Send): { path: string; contentType: string; body: string } {
  const [first] = send.readings;
  if (send.format === "single" && first)
    return {
      path: `/v1/telemetry/${first.kind}`,
      contentType: "application/json",
      body: JSON.stringify(readingJson(first, false)),
    };
  if (send.format === "ndjson")
    return {
      path: "/v1/telemetry/batch",
      contentType: "application/x-ndjson",
      body: send.readings.map((r) => JSON.stringify(readingJson(r, true))).join("\n"),
    };
  return {
    path: "/v1/telemetry/batch",
    contentType: "application/json",
    body: JSON.stringify({
      meters: send.readings.filter((r) => r.kind === "meter").map((r) => readingJson(r, false)),
      vehicles: send.readings.filter((r) => r.kind === "vehicle").map((r) => readingJson(r, false)),
    }),
  };
}

// ---------------------------------------------------------------------------------------
// The cluster's processes, found by their working directory (PostgreSQL runs in its data
// directory), so backends orphaned by the postmaster's death are found too.
// ---------------------------------------------------------------------------------------

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

async function until<T>(what: string, deadlineMs: number, probe: () => Promise<T | undefined> | T | undefined) {
  const deadline = performance.now() + deadlineMs;
  for (;;) {
    if (isTornDown) throw new Error(`${what}: the test was torn down`);
    const value = await probe();
    if (value !== undefined) return value;
    if (performance.now() > deadline) throw new Error(`${what}: not within ${deadlineMs} ms`);
    await Bun.sleep(25);
  }
}

// ---------------------------------------------------------------------------------------
// Set-up and tear-down
// ---------------------------------------------------------------------------------------

let scratch: string | undefined;
let postgresServer: EmbeddedPostgres | undefined;
const dataDirs = new Set<string>();
let sql: Sql | undefined;
let writer: TelemetryWriter | undefined;
let http: ReturnType<typeof Bun.serve> | undefined;
let isLoadStopped = false;
/** Set by teardown: a body still running (the runner gave up on it) must stop, not restart servers. */
let isTornDown = false;
let scenario: Promise<void> | undefined;

afterAll(async () => {
  isTornDown = true;
  isLoadStopped = true;
  // An uncaught error fails the test at once, but its body keeps running: let it end first.
  await Promise.race([scenario?.catch(() => {}), Bun.sleep(20_000)]);
  http?.stop(true);
  await Promise.race([writer?.close(), Bun.sleep(5_000)]);
  await sql?.end({ timeout: 1 }).catch(() => {});
  await postgresServer?.stop().catch(() => {});
  for (const dir of dataDirs) await rm(dir, { recursive: true, force: true });
  if (scratch) await rm(scratch, { recursive: true, force: true });
}, 30_000);

describe("the database killed mid-load", () => {
  it("answers 503 during the outage, recovers by itself, and loses no acknowledged reading", async () => {
    scenario = crashAndRecover();
    await scenario;
  }, 120_000);
});

async function crashAndRecover() {
  {
    // --- A server of our own, and the app as production builds it -----------------
    scratch = await mkdtemp(join(tmpdir(), "fleet-crash-"));
    await chmod(scratch, 0o755); // reachable by the account PostgreSQL runs as under root
    const pgOptions = { dataDir: join(scratch, "pg"), port: await freePort() }; // fsync stays on
    postgresServer = await startEmbeddedPostgres(pgOptions);
    const dataDir = realpathSync(postgresServer.dataDir);
    dataDirs.add(dataDir);
    const url = await ensureDatabase(postgresServer.url, "fleet");
    sql = createSql({ url, poolSize: 10, connectTimeoutSeconds: 2 });
    const db = createDb(sql);
    await applyMigrations(sql, db);
    const partitions = new Partitions(sql);
    await partitions.createAhead(NOW, 2);
    await partitions.ensure("meter_telemetry", [new Date(BASE)]);
    await partitions.ensure("vehicle_telemetry", [new Date(BASE)]);
    writer = createGroupCommitWriter(sql, partitions, { maxQueued: 50_000, maxFlush: 5_000, flushConcurrency: 2 });
    const unexpected: unknown[] = [];
    const app = createApp({
      sql,
      db,
      writer,
      partitions,
      now: () => NOW,
      onUnexpectedError: (error) => {
        unexpected.push(error);
        console.error("unexpected error reached the 500 path:", error);
      },
    });
    http = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: app.fetch });
    const origin = `http://127.0.0.1:${http.port}`;

    async function attempt(send: Send, isRetry: boolean): Promise<Attempt> {
      const { path, contentType, body } = request(send);
      const startedAt = performance.now();
      try {
        const response = await fetch(origin + path, {
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

    async function readyz(): Promise<number> {
      try {
        const response = await fetch(`${origin}/readyz`, { signal: AbortSignal.timeout(HANG_MS) });
        await response.text();
        return response.status;
      } catch {
        return -1;
      }
    }

    // --- Load: 16 loops, each with devices of its own, one reading a second each ----
    const sends: Send[] = [];
    const loop = async (index: number) => {
      const meter = randomUUID();
      const vehicle = randomUUID();
      let meterAt = BASE + index; // distinct instants across loops, unique per device
      let vehicleAt = BASE + index;
      const nextMeter = (): Reading => {
        meterAt += 1_000;
        return { kind: "meter", device: meter, at: meterAt, values: [(meterAt % 100_000) / 1000, 230.5] };
      };
      const nextVehicle = (): Reading => {
        vehicleAt += 1_000;
        return {
          kind: "vehicle",
          device: vehicle,
          at: vehicleAt,
          values: [(vehicleAt % 10_000) / 100, (vehicleAt % 100_000) / 1000, 20.25],
        };
      };
      for (let step = 0; !isLoadStopped; step++) {
        let send: Send;
        if (step % 10 === 9) {
          send = {
            readings: [nextMeter(), nextVehicle(), nextMeter(), nextVehicle()],
            format: step % 20 === 19 ? "ndjson" : "json",
            attempts: [],
          };
        } else {
          send = { readings: [step % 2 === 0 ? nextMeter() : nextVehicle()], format: "single", attempts: [] };
        }
        sends.push(send);
        const result = await attempt(send, false);
        send.attempts.push(result);
        if (is2xx(result.status)) send.ack = result;
        else await Bun.sleep(25); // a client backing off a little (not Retry-After: keep the test short)
      }
    };
    const loops = Array.from({ length: LOOPS }, (_, index) => loop(index));
    const acked = () => sends.filter((send) => send.ack).length;

    try {
      await until("200 writes acknowledged before the crash", 30_000, () => (acked() >= 200 ? true : undefined));

      // --- Kill the postmaster (SIGKILL: no shutdown, no checkpoint) ---------------
      const pidFile = join(dataDir, "postmaster.pid");
      const postmasterPid = Number(readFileSync(pidFile, "utf8").split("\n")[0]);
      expect(postmasterPid).toBeGreaterThan(0);
      const ackedBeforeKill = acked();
      const killedAt = performance.now();
      process.kill(postmasterPid, "SIGKILL");
      // Its backends notice the postmaster's death and exit on their own; from then on
      // nothing can commit, so every answer must be a 503.
      const goneAt = await until("the killed server's processes exit", 15_000, () =>
        clusterProcesses(dataDir).length === 0 ? performance.now() : undefined,
      );
      expect(existsSync(pidFile)).toBe(true); // the stale lock file stays behind

      // A while of outage under load (the outage's length, not a wait for something).
      const readyDuringOutage = readyz();
      await Bun.sleep(2_000);

      // --- Restart on the same data directory, stale postmaster.pid and all ------
      const restartBeganAt = performance.now();
      if (isTornDown) return;
      try {
        postgresServer = await startEmbeddedPostgres(pgOptions);
      } catch (error) {
        throw new Error(`PostgreSQL did not restart on the data directory the crash left: ${error}`);
      }
      const restartedAt = performance.now();

      // --- The same app and pool recover by themselves: measured here, judged below
      const recoveredAt = await until("a write acknowledged after the restart", 30_000, () =>
        sends.some((s) => s.attempts.some((a) => is2xx(a.status) && a.endedAt >= restartedAt))
          ? performance.now()
          : undefined,
      );
      const readyAt = await until("/readyz answering 200 after the restart", 30_000, async () =>
        (await readyz()) === 200 ? performance.now() : undefined,
      );
      const ackedAtReady = acked();
      await until("writes flowing again after the restart", 30_000, () =>
        acked() >= ackedAtReady + 200 ? true : undefined,
      );
      isLoadStopped = true;
      await Promise.all(loops);
      // Requests a client gave up on may still be working on the server: let them end
      // before looking at what was stored.
      await until("requests still running on the server to end", 30_000, () =>
        http?.pendingRequests === 0 && writer?.queued() === 0 ? true : undefined,
      );

      // --- The answers under load ----------------------------------------------
      const all = sends.flatMap((send) => send.attempts.map((a) => ({ send, a })));
      const breaches: string[] = [];
      const show = ({ send, a }: { send: Send; a: Attempt }) =>
        `${send.format} at +${Math.round(a.startedAt - killedAt)} ms (${Math.round(a.endedAt - a.startedAt)} ms): ${a.status} ${a.text.slice(0, 300)}`;
      for (const entry of all) {
        const { send, a } = entry;
        if (is2xx(a.status)) {
          const stored = send.format === "single" ? 1 : a.body?.stored;
          const isRightAnswer =
            send.format === "single"
              ? a.status === 201 && a.body?.status === "stored"
              : a.status === 201 && stored === send.readings.length && a.body?.duplicates === 0;
          if (!isRightAnswer) breaches.push(`a first attempt not answered "stored" in full: ${show(entry)}`);
          if (a.startedAt >= goneAt && a.endedAt <= restartBeganAt)
            breaches.push(`a 2xx while the database was down: ${show(entry)}`);
        } else if (a.status === "timeout") {
          breaches.push(`no answer within ${HANG_MS} ms (a hang): ${show(entry)}`);
        } else if (a.status !== 503) {
          breaches.push(`neither 2xx nor 503: ${show(entry)}`);
        } else {
          if (!a.retryAfter) breaches.push(`a 503 without Retry-After: ${show(entry)}`);
          if (!RETRYABLE_CODES.includes(a.body?.error?.code)) breaches.push(`a 503 with an odd code: ${show(entry)}`);
        }
      }
      const refusedInOutage = all.filter(({ a }) => a.startedAt >= goneAt && a.endedAt <= restartBeganAt);
      const slowest = Math.max(...all.map(({ a }) => a.endedAt - a.startedAt));

      // --- What the crash left in the cold store, before any retry ----------------
      const coldKeys = async () => {
        const rows = await (sql as Sql)<{ key: string }[]>`
            select meter_id::text || '|' || (extract(epoch from recorded_at) * 1000)::bigint as key from meter_telemetry
            union all
            select vehicle_id::text || '|' || (extract(epoch from recorded_at) * 1000)::bigint from vehicle_telemetry
          `;
        return rows.map((row) => row.key);
      };
      const afterCrash = await coldKeys();
      const afterCrashSet = new Set(afterCrash);
      const sentKeys = new Set(sends.flatMap((send) => send.readings.map(readingKey)));
      const ackedKeys = new Set(sends.filter((s) => s.ack).flatMap((s) => s.readings.map(readingKey)));
      const lost = [...ackedKeys].filter((key) => !afterCrashSet.has(key));
      const phantoms = afterCrash.filter((key) => !sentKeys.has(key));
      const unacked = sends.filter((send) => !send.ack);
      const committedUnacked = unacked
        .flatMap((s) => s.readings.map(readingKey))
        .filter((key) => afterCrashSet.has(key)).length;

      // --- Retry every reading that got no 2xx: stored once, answered truthfully --
      const retryBreaches: string[] = [];
      const queue = [...unacked];
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          for (let send = queue.shift(); send; send = queue.shift()) {
            const deadline = performance.now() + 10_000;
            let result = await attempt(send, true);
            send.attempts.push(result);
            while (result.status === 503 && performance.now() < deadline) {
              await Bun.sleep(100);
              result = await attempt(send, true);
              send.attempts.push(result);
            }
            if (!is2xx(result.status)) {
              retryBreaches.push(`a retry after recovery not answered 2xx: ${result.status} ${result.text}`);
              continue;
            }
            send.ack = result;
            const already = send.readings.filter((r) => afterCrashSet.has(readingKey(r))).length;
            const fresh = send.readings.length - already;
            const isTruthful =
              send.format === "single"
                ? result.status === (fresh ? 201 : 200) && result.body?.status === (fresh ? "stored" : "duplicate")
                : result.status === (fresh ? 201 : 200) &&
                  result.body?.stored === fresh &&
                  result.body?.duplicates === already;
            if (!isTruthful)
              retryBreaches.push(
                `a retry answered ${result.status} ${result.text} for ${fresh} new and ${already} stored readings`,
              );
          }
        }),
      );

      // --- The end state: each reading once, as sent; hot = newest cold ------------
      const final = await coldKeys();
      const finalCounts = new Map<string, number>();
      for (const key of final) finalCounts.set(key, (finalCounts.get(key) ?? 0) + 1);
      const storedTwice = [...finalCounts].filter(([, count]) => count > 1).map(([key]) => key);
      const missing = [...sentKeys].filter((key) => !finalCounts.has(key));
      let storedAnswers = 0;
      for (const send of sends) {
        for (const a of send.attempts) {
          if (!is2xx(a.status)) continue;
          storedAnswers += send.format === "single" ? (a.body?.status === "stored" ? 1 : 0) : (a.body?.stored ?? 0);
        }
      }
      const sentReadings = new Map(sends.flatMap((s) => s.readings.map((r) => [readingKey(r), r] as const)));
      const changed: string[] = [];
      const meterRows = await (sql as Sql)<{ device: string; at: number; a: number; b: number }[]>`
          select meter_id::text as device, (extract(epoch from recorded_at) * 1000)::float8 as at,
                 kwh_consumed_ac as a, voltage as b
          from meter_telemetry
        `;
      const vehicleRows = await (sql as Sql)<{ device: string; at: number; a: number; b: number; c: number }[]>`
          select vehicle_id::text as device, (extract(epoch from recorded_at) * 1000)::float8 as at,
                 soc as a, kwh_delivered_dc as b, battery_temp as c
          from vehicle_telemetry
        `;
      for (const row of [...meterRows, ...vehicleRows]) {
        const sent = sentReadings.get(keyOf(row.device, row.at));
        const values = "c" in row ? [row.a, row.b, row.c] : [row.a, row.b];
        if (sent && JSON.stringify(sent.values) !== JSON.stringify(values))
          changed.push(`${keyOf(row.device, row.at)}: sent ${sent.values}, stored ${values}`);
      }
      const hotMismatches = await (sql as Sql)`
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
        `;
      const [hot] = await (sql as Sql)<{ devices: number }[]>`
          select (select count(*) from meter_state)::int + (select count(*) from vehicle_state)::int as devices
        `;

      const summary = {
        sends: sends.length,
        readings: sentKeys.size,
        ackedBeforeKill,
        refusedDuringOutage: refusedInOutage.length,
        unackedUnderLoad: unacked.length,
        committedUnacked,
        orphansGoneMs: Math.round(goneAt - killedAt),
        restartMs: Math.round(restartedAt - restartBeganAt),
        recoveredMsAfterRestart: Math.round(recoveredAt - restartedAt),
        readyMsAfterRestart: Math.round(readyAt - restartedAt),
        slowestRequestMs: Math.round(slowest),
      };
      console.log("crash test:", JSON.stringify(summary));

      // Every problem at once, so one run tells the whole story.
      const problems = [
        ...breaches.slice(0, 10),
        ...(breaches.length > 10 ? [`... and ${breaches.length - 10} more such answers`] : []),
        ...unexpected.map((error) => `an error reached the 500 path: ${(error as Error)?.stack ?? error}`),
        ...(refusedInOutage.length === 0 ? ["no request was answered during the outage"] : []),
        ...((await readyDuringOutage) === 503 ? [] : [`/readyz answered ${await readyDuringOutage} during the outage`]),
        ...(slowest < HANG_MS ? [] : [`a request took ${Math.round(slowest)} ms`]),
        ...(recoveredAt - restartedAt < 5_000
          ? []
          : [`the first write succeeded ${Math.round(recoveredAt - restartedAt)} ms after the database was back`]),
        ...(readyAt - restartedAt < 5_000
          ? []
          : [`/readyz answered 200 only ${Math.round(readyAt - restartedAt)} ms after the database was back`]),
        ...lost.slice(0, 10).map((key) => `acknowledged but not stored after the crash: ${key}`),
        ...phantoms.slice(0, 10).map((key) => `stored but never sent: ${key}`),
        ...retryBreaches.slice(0, 10),
        ...storedTwice.slice(0, 10).map((key) => `stored twice: ${key}`),
        ...missing.slice(0, 10).map((key) => `never stored, even after retries: ${key}`),
        ...(final.length === sentKeys.size ? [] : [`${final.length} rows for ${sentKeys.size} distinct readings`]),
        // Every row was acknowledged "stored" exactly once, or was committed without an
        // answer (a 503, a client that gave up) and recognised as a duplicate when retried.
        ...(storedAnswers + committedUnacked === final.length
          ? []
          : [`${storedAnswers} "stored" answers + ${committedUnacked} unanswered commits != ${final.length} rows`]),
        ...changed.slice(0, 10).map((row) => `stored values differ from those sent: ${row}`),
        ...[...hotMismatches].map((row) => `hot state is not the newest history: ${JSON.stringify(row)}`),
        ...(hot?.devices === LOOPS * 2 ? [] : [`${hot?.devices} hot rows for ${LOOPS * 2} devices`]),
      ];
      expect(problems).toEqual([]);
    } finally {
      isLoadStopped = true;
      await Promise.all(loops);
    }
  }
}
