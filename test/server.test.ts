// The real entry point (`bun src/index.ts`) on embedded PostgreSQL or DATABASE_URL, over HTTP, stopped by signal.
import { afterAll, describe, expect, it } from "bun:test";
import { rm } from "node:fs/promises";
import { createTestDatabase } from "./support/database.ts";
import { freePort } from "./support/server.ts";
import { makeDataDir, postJson, spawnService, startService } from "./support/service.ts";

const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

const post = (url: string, body: unknown) => postJson(url, body);

// The seed design's curl examples.
const meter = {
  meterId: "550e8400-e29b-41d4-a716-446655440000",
  kwhConsumedAc: 50.5,
  voltage: 230,
  timestamp: "2026-02-09T14:00:00Z",
};
const vehicle = {
  vehicleId: "660e8400-e29b-41d4-a716-446655440000",
  soc: 75.5,
  kwhDeliveredDc: 40.3,
  batteryTemp: 25.5,
  timestamp: "2026-02-09T14:00:00Z",
};

describe("bun run start", () => {
  it("refuses to start on a bad setting, naming it", async () => {
    const child = spawnService({ PORT: "eighty" });
    expect(await child.exited).toBe(1);
    expect(await new Response(child.stderr).text()).toContain("PORT");
  });

  it("serves the seed's examples on its embedded PostgreSQL, stops cleanly, and keeps the data", async () => {
    const dataDir = await makeDataDir("fleet-start-");
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const env = { DATA_DIR: dataDir, EMBEDDED_PG_PORT: String(await freePort()) };

    const first = await startService(env);
    expect((await post(`${first.base}/v1/telemetry/meter`, meter)).status).toBe(201);
    expect((await post(`${first.base}/v1/telemetry/vehicle`, vehicle)).status).toBe(201);
    expect(
      (await post(`${first.base}/v1/mappings`, { vehicleId: vehicle.vehicleId, meterId: meter.meterId })).status,
    ).toBe(201);
    first.child.kill("SIGTERM");
    expect(await first.child.exited).toBe(0);

    const second = await startService(env);
    expect((await post(`${second.base}/v1/telemetry/meter`, meter)).status).toBe(200);
    const performance = await fetch(
      `${second.base}/v1/analytics/performance/${vehicle.vehicleId}?from=2026-02-09T00:00:00Z&to=2026-02-10T00:00:00Z`,
    );
    expect(performance.status).toBe(200);
    expect(await performance.json()).toMatchObject({
      totalAcConsumption: 50.5,
      totalDcDelivery: 40.3,
      efficiencyRatio: 0.798,
      avgBatteryTemp: 25.5,
      dataPoints: 1,
    });
    second.child.kill("SIGINT");
    expect(await second.child.exited).toBe(0);
  }, 120_000);

  it("uses the server DATABASE_URL names instead, migrating it", async () => {
    const database = await createTestDatabase();
    cleanups.push(() => database.drop());
    const { child, base } = await startService({ DATABASE_URL: database.url });
    expect((await post(`${base}/v1/telemetry/vehicle`, vehicle)).status).toBe(201);
    // The dashboard is bundled at start-up: the page and the script it names are served.
    const page = await fetch(`${base}/`);
    expect(page.headers.get("content-type")).toStartWith("text/html");
    const script = /src="(\/dashboard\/app\.\w+\.js)"/.exec(await page.text())?.[1];
    expect((await fetch(`${base}${script}`)).status).toBe(200);
    const [row] = await database.sql`select count(*)::int as count from vehicle_telemetry`;
    expect(row?.count).toBe(1);
    child.kill("SIGTERM");
    expect(await child.exited).toBe(0);
  }, 60_000);
});

describe("refusals and HEAD over the real entry point", () => {
  it("limits refused requests per client address by default, and answers HEAD with GET's length", async () => {
    const database = await createTestDatabase();
    cleanups.push(() => database.drop());
    const { child, base } = await startService({
      DATABASE_URL: database.url,
      API_MASTER_KEY: "master-key-for-server-tests-0123",
      REFUSAL_LIMIT_BURST: "3",
    });
    const refused = () => fetch(`${base}/v1/mappings`, { headers: { authorization: "Bearer nope" } });
    for (let i = 0; i < 3; i++) expect((await refused()).status).toBe(401);
    const limited = await refused();
    expect(limited.status).toBe(429);
    expect((await limited.json()).error.code).toBe("rate_limited");
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    const master = { authorization: "Bearer master-key-for-server-tests-0123" };
    expect((await fetch(`${base}/v1/mappings`, { headers: master })).status).toBe(200);

    for (const path of ["/", "/docs", "/openapi.json", "/healthz"]) {
      const length = (await (await fetch(`${base}${path}`)).arrayBuffer()).byteLength;
      const head = await fetch(`${base}${path}`, { method: "HEAD" });
      expect({ path, length: head.headers.get("content-length") }).toEqual({ path, length: String(length) });
    }
    child.kill("SIGTERM");
    expect(await child.exited).toBe(0);
  }, 60_000);
});
