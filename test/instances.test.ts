// Two instances of the service on one database: shared revocation and fleet view, and an aggregator SIGKILLed.
// Real processes (`bun src/index.ts`): a key revoked on one is refused by the other, one's fleet view sees the
// other's writes at once, and when the instance running the rollup aggregator is SIGKILLed mid-load, the
// other takes the aggregation over, nothing either acknowledged is lost, and readings retried on the
// survivor are stored once.
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { randomUUID } from "node:crypto";
import { createTestDatabase, type TestDatabase } from "./support/database.ts";
import { type RunningService, startService } from "./support/service.ts";

const MASTER = "instances-test-master-key";
const auth = (key: string) => ({ Authorization: `Bearer ${key}` });
let database: TestDatabase;
let services: RunningService[];
/** Two real processes start, migrate and elect an aggregator: seconds on a busy machine, not five. */
const START_TIMEOUT_MS = 60_000;

beforeAll(async () => {
  database = await createTestDatabase();
  const env = {
    DATABASE_URL: database.url,
    API_MASTER_KEY: MASTER,
    ROLLUP_INTERVAL_MS: "100",
    ROLLUP_TAKEOVER_MS: "300",
    DATABASE_POOL_SIZE: "6",
  };
  services = await Promise.all([startService(env), startService(env)]);
}, START_TIMEOUT_MS);
afterAll(async () => {
  for (const service of services ?? []) service.child.kill("SIGKILL");
  await database?.drop();
});

const send = (service: RunningService, path: string, body: unknown, key = MASTER) =>
  fetch(`${service.base}${path}`, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...auth(key) },
    body: JSON.stringify(body),
  });
const get = (service: RunningService, path: string, key = MASTER) =>
  fetch(`${service.base}${path}`, { headers: auth(key) });

async function eventually<T>(probe: () => Promise<T | undefined>, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms`);
    await Bun.sleep(50);
  }
}

/** The pid of the process whose instance aggregates, once one has run. */
async function aggregatorPid(): Promise<number> {
  return eventually(async () => {
    const [row] = await database.sql<{ holder: string | null }[]>`select holder from rollup_aggregator`;
    const pid = Number(row?.holder?.split(":")[1]);
    return Number.isFinite(pid) && pid > 0 ? pid : undefined;
  }, 10_000);
}

describe("two instances on one database", () => {
  it("refuse on one a key revoked on the other", async () => {
    const [a, b] = services as [RunningService, RunningService];
    const created = await send(a, "/v1/keys", { name: "dashboard", scopes: ["read"] });
    expect(created.status).toBe(201);
    const { id, key } = (await created.json()) as { id: string; key: string };
    expect((await get(b, `/v1/vehicles/${randomUUID()}/state`, key)).status).toBe(404);
    const revoked = await fetch(`${a.base}/v1/keys/${id}`, { method: "DELETE", headers: auth(MASTER) });
    expect(revoked.status).toBe(200);
    await eventually(
      async () => ((await get(b, `/v1/vehicles/${randomUUID()}/state`, key)).status === 401 ? true : undefined),
      2_000,
    );
  });

  it("see each other's writes in the fleet view at once", async () => {
    const [a, b] = services as [RunningService, RunningService];
    const window = "/v1/analytics/fleet?from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z&limit=500";
    const totals = async () => ((await (await get(b, window)).json()) as { totals: { dataPoints: number } }).totals;
    const before = (await totals()).dataPoints; // warms b's fleet cache
    for (let i = 0; i < 3; i++) {
      const reading = {
        vehicleId: randomUUID(),
        soc: 50,
        kwhDeliveredDc: 1.5,
        batteryTemp: 20,
        timestamp: `2026-01-01T0${i}:00:00Z`,
      };
      expect((await send(a, "/v1/telemetry/vehicle", reading)).status).toBe(201);
      expect((await totals()).dataPoints).toBe(before + i + 1);
    }
  });

  it("lose nothing acknowledged when the aggregating one is killed mid-load, and store retries once", async () => {
    const holderPid = await aggregatorPid();
    const victim = services.find((service) => service.child.pid === holderPid);
    const survivor = services.find((service) => service.child.pid !== holderPid);
    if (!victim || !survivor) throw new Error(`no instance has pid ${holderPid}`);

    // 20 vehicles and 20 meters report a minute at a time through both instances at once.
    const vehicles = Array.from({ length: 20 }, () => randomUUID());
    const meters = Array.from({ length: 20 }, () => randomUUID());
    const start = Date.parse("2026-02-10T00:00:00Z");
    const acknowledged = new Map<string, number>(); // device|instant -> energy
    let retried = 0;
    let killedAt = 0;
    const sendMinute = async (minute: number, viaVictimFirst: boolean) => {
      const timestamp = new Date(start + minute * 60_000).toISOString();
      const body = {
        vehicles: vehicles.map((vehicleId, i) => ({
          vehicleId,
          soc: (minute % 100) + 0.5,
          kwhDeliveredDc: (i + minute) / 100,
          batteryTemp: 25,
          timestamp,
        })),
        meters: meters.map((meterId, i) => ({ meterId, kwhConsumedAc: (i + minute) / 40, voltage: 230, timestamp })),
      };
      const order = viaVictimFirst ? [victim, survivor] : [survivor, victim];
      const answers: (number | string)[] = [];
      for (const [attempt, service] of [...order, survivor].entries()) {
        if (attempt > 0) retried++;
        const response = await send(service, "/v1/telemetry/batch", body).catch(() => undefined);
        answers.push(response?.status ?? "no answer");
        // Only an instance that is gone, or a 503, may be retried elsewhere.
        if (response && response.status !== 503 && response.status >= 300) break;
        if (response && response.status >= 200 && response.status < 300) {
          for (const r of body.vehicles) acknowledged.set(`${r.vehicleId}|${timestamp}`, r.kwhDeliveredDc);
          for (const r of body.meters) acknowledged.set(`${r.meterId}|${timestamp}`, r.kwhConsumedAc);
          return;
        }
      }
      throw new Error(`minute ${minute} was never acknowledged: ${answers.join(", ")}`);
    };
    // Two writers on the same devices, interleaved minutes; the aggregator's instance dies
    // a third of the way through.
    const writer = async (offset: number) => {
      for (let minute = offset; minute < 180; minute += 2) {
        if (minute === 60 && !killedAt) {
          killedAt = Date.now();
          victim.child.kill("SIGKILL");
        }
        await sendMinute(minute, minute % 3 === 0);
      }
    };
    await Promise.all([writer(0), writer(1)]);
    expect(killedAt).toBeGreaterThan(0);
    expect(acknowledged.size).toBe(180 * 40);

    // The survivor takes the aggregation over and empties the backlog.
    const survivorPid = survivor.child.pid;
    await eventually(async () => ((await aggregatorPid()) === survivorPid ? true : undefined), 10_000);
    await eventually(async () => {
      const stats = (await (await get(survivor, "/v1/admin/stats")).json()) as {
        rollups: { pendingReadings: number };
      };
      return stats.rollups.pendingReadings === 0 ? true : undefined;
    }, 10_000);

    // Every acknowledged reading is stored, once, with its values.
    const stored = await database.sql<{ key: string; energy: number }[]>`
      select vehicle_id || '|' || to_char(recorded_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS".000Z"') as key,
             kwh_delivered_dc as energy
      from vehicle_telemetry where vehicle_id in ${database.sql(vehicles)}
      union all
      select meter_id || '|' || to_char(recorded_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS".000Z"'),
             kwh_consumed_ac
      from meter_telemetry where meter_id in ${database.sql(meters)}
    `;
    expect(stored.length).toBe(acknowledged.size);
    expect(new Map(stored.map((row) => [row.key, row.energy]))).toEqual(acknowledged);
    // Hot state is the newest reading; the rollups, caught up, equal the raw rows.
    const [checks] = await database.sql<{ staleStates: number; hourlyMismatches: number }[]>`
      select
        (select count(*) from vehicle_state s where s.vehicle_id in ${database.sql(vehicles)}
           and s.last_updated <> (select max(recorded_at) from vehicle_telemetry t where t.vehicle_id = s.vehicle_id))::int
          as "staleStates",
        (select count(*) from (
           select meter_id, date_trunc('hour', recorded_at, 'UTC') as hour, sum(kwh_consumed_ac) as energy, count(*)::int as readings
           from meter_telemetry where meter_id in ${database.sql(meters)} group by 1, 2
         ) raw full join (select * from meter_hourly where meter_id in ${database.sql(meters)}) h
           on h.meter_id = raw.meter_id and h.hour = raw.hour
         where h.kwh_consumed_ac is distinct from raw.energy or h.readings is distinct from raw.readings)::int
          as "hourlyMismatches"
    `;
    expect(checks).toEqual({ staleStates: 0, hourlyMismatches: 0 });
    expect(retried).toBeGreaterThan(0);
  }, 120_000);
});
