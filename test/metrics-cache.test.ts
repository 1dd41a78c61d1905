// /metrics costs the database one read per cache period however many scrape, counts the
// backlog only up to its cap, and asks for METRICS_TOKEN when one is set.
import { describe, expect, it } from "bun:test";
import { createApp } from "../src/app.ts";
import { createMetrics, type MetricSources } from "../src/observability/metrics.ts";
import { useTestApp } from "./support/database.ts";
import { meterReading, postJson, vehicleReading } from "./support/http.ts";

const t = useTestApp();

const TOKEN = "metrics-token-0123456789";

function appWith(sources: Partial<MetricSources>, metricsToken?: string) {
  const metrics = createMetrics({ sql: t.database.sql, poolSize: 8, ...sources });
  return createApp({ sql: t.database.sql, db: t.database.db, writer: t.writer, metrics, metricsToken });
}

const metricValue = (text: string, name: string) => {
  const line = text.split("\n").find((row) => row.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
};

const scrape = async (app: ReturnType<typeof createApp>, headers: Record<string, string> = {}) => {
  const response = await app.request("/metrics", { headers });
  return { status: response.status, text: await response.text(), headers: response.headers };
};

describe("GET /metrics from the database", () => {
  it("reads the database once for twenty concurrent scrapes and the scrapes within the period", async () => {
    const app = appWith({ cacheMs: 60_000 });
    const answers = await Promise.all(Array.from({ length: 20 }, () => scrape(app)));
    for (const answer of answers) {
      expect(answer.status).toBe(200);
      expect(metricValue(answer.text, "fleet_rollup_pending_readings")).toBeGreaterThanOrEqual(0);
    }
    for (let i = 0; i < 5; i++) await scrape(app);
    expect(metricValue((await scrape(app)).text, "fleet_metrics_database_reads_total")).toBe(1);
  });

  it("renders the text once for concurrent scrapes within the render period", async () => {
    const metrics = createMetrics({ sql: t.database.sql, poolSize: 8, renderCacheMs: 60_000 });
    const app = createApp({ sql: t.database.sql, db: t.database.db, writer: t.writer, metrics });
    let renders = 0;
    const render = metrics.registry.metrics.bind(metrics.registry);
    metrics.registry.metrics = () => {
      renders++;
      return render();
    };
    const texts = await Promise.all(Array.from({ length: 20 }, async () => (await scrape(app)).text));
    expect(new Set(texts).size).toBe(1);
    await scrape(app);
    expect(renders).toBe(1);
  });

  it("reads again once the period is over (here: none)", async () => {
    const app = appWith({ cacheMs: 0 });
    await scrape(app);
    await scrape(app);
    expect(metricValue((await scrape(app)).text, "fleet_metrics_database_reads_total")).toBe(3);
  });

  it("counts pending readings up to the cap of each table", async () => {
    const batch = {
      meters: [meterReading(), meterReading(), meterReading()],
      vehicles: [vehicleReading(), vehicleReading(), vehicleReading()],
    };
    expect((await postJson(t.app, "/v1/telemetry/batch", batch)).status).toBe(201);
    const [row] = await t.database.sql`
      select (select count(*) from meter_pending)::int as meters, (select count(*) from vehicle_pending)::int as vehicles
    `;
    expect(row?.meters).toBeGreaterThanOrEqual(3);
    expect(row?.vehicles).toBeGreaterThanOrEqual(3);

    const capped = await scrape(appWith({ backlogCap: 2 }));
    expect(metricValue(capped.text, "fleet_rollup_pending_readings")).toBe(4);
    const exact = await scrape(appWith({ backlogCap: 1_000 }));
    expect(metricValue(exact.text, "fleet_rollup_pending_readings")).toBe((row?.meters ?? 0) + (row?.vehicles ?? 0));
  });
});

describe("METRICS_TOKEN", () => {
  it("is open without a token", async () => {
    expect((await scrape(appWith({}))).status).toBe(200);
  });

  it("asks for the token, in the one error shape, and takes the right one", async () => {
    const app = appWith({}, TOKEN);
    const tries: Record<string, string>[] = [
      {},
      { authorization: "Bearer wrong-token-0123456789" },
      { authorization: TOKEN },
    ];
    for (const headers of tries) {
      const refused = await scrape(app, headers);
      expect(refused.status).toBe(401);
      expect(refused.headers.get("www-authenticate")).toContain("Bearer");
      expect(JSON.parse(refused.text).error.code).toBe("unauthorized");
      expect(refused.text).not.toContain("fleet_readings_total");
    }
    const taken = await scrape(app, { authorization: `Bearer ${TOKEN}` });
    expect(taken.status).toBe(200);
    expect(taken.text).toContain("fleet_metrics_database_reads_total");
  });
});
