// deploy/'s monitoring: promtool accepts the config, rules and live /metrics; dashboards query real metrics.
// Every metric the Grafana dashboard and the alerts query is one the service exports. The promtool checks
// skip, saying why, when promtool is not installed (Debian: apt-get install prometheus).
import { describe, expect, it } from "bun:test";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { createApp } from "../src/app.ts";
import { createMetrics } from "../src/observability/metrics.ts";
import { useTestApp } from "./support/database.ts";
import { meterReading, postJson, vehicleReading } from "./support/http.ts";

const DEPLOY = join(import.meta.dir, "..", "deploy");
const promtool = Bun.which("promtool");
if (!promtool) console.log("promtool checks skipped: promtool is not installed (apt-get install prometheus)");

// prom-client's default Node.js gauges end in _total, which promtool's linter dislikes;
// the names are the library's, kept so existing dashboards for them keep working.
const LIBRARY_LINT = /^nodejs_active_\w+_total non-counter metrics should not have "_total" suffix$/;

const t = useTestApp();

/** The /metrics text of an app that has taken a few readings, refused one and served a 404. */
async function liveMetrics(): Promise<string> {
  const metrics = createMetrics({ sql: t.database.sql, poolSize: 8, queued: () => t.writer.queued() });
  const app = createApp({ sql: t.database.sql, db: t.database.db, writer: t.writer, metrics });
  await postJson(app, "/v1/telemetry/meter", meterReading());
  await postJson(app, "/v1/telemetry/batch", { vehicles: [vehicleReading(), vehicleReading()] });
  await postJson(app, "/v1/telemetry/vehicle", vehicleReading({ soc: 101 }));
  metrics.flushDuration.observe({ result: "committed" }, 0.004);
  metrics.flushReadings.observe(3);
  await app.request("/nowhere");
  const response = await app.request("/metrics");
  expect(response.status).toBe(200);
  return response.text();
}

function run(args: string[], stdin?: string) {
  const child = Bun.spawnSync([promtool as string, ...args], { stdin: stdin ? Buffer.from(stdin) : undefined });
  return { exitCode: child.exitCode, output: `${child.stdout.toString()}${child.stderr.toString()}` };
}

/** Metric names a PromQL expression uses (ours: fleet_* and http_*). */
const metricNames = (expression: string) => [...expression.matchAll(/\b(?:fleet|http)_[a-z_]+\b/g)].map((m) => m[0]);

describe.skipIf(!promtool)("promtool", () => {
  it("accepts deploy/prometheus.yml and its alert rules", () => {
    const { exitCode, output } = run(["check", "config", join(DEPLOY, "prometheus.yml")]);
    expect(output).toContain("SUCCESS: 1 rule files found");
    expect(exitCode).toBe(0);
  });

  it("accepts the live /metrics text", async () => {
    const { exitCode, output } = run(["check", "metrics"], await liveMetrics());
    // 0: clean; 3: lint findings only (1 would be text it cannot parse).
    expect([0, 3]).toContain(exitCode as number);
    const findings = output.split("\n").filter((line) => line.trim() !== "");
    expect(findings.filter((line) => !LIBRARY_LINT.test(line))).toEqual([]);
  });
});

describe("the Grafana dashboard and the alert rules", () => {
  it("query only metrics the service exports", async () => {
    const text = await liveMetrics();
    const exported = new Set([...text.matchAll(/^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]/gm)].map((match) => match[1]));
    const dashboard = JSON.parse(await readFile(join(DEPLOY, "grafana-dashboard.json"), "utf8")) as {
      panels: { title: string; targets: { expr: string }[] }[];
    };
    const rules = await readFile(join(DEPLOY, "prometheus-rules.yml"), "utf8");
    const expressions = [
      ...dashboard.panels.flatMap((panel) => panel.targets.map((target) => target.expr)),
      ...[...rules.matchAll(/^\s+expr: (.+)$/gm)].map((match) => match[1] as string),
    ];
    const used = new Set(expressions.flatMap(metricNames));
    for (const name of [
      "fleet_readings_total",
      "fleet_write_flush_duration_seconds_bucket",
      "fleet_write_queue_depth",
    ]) {
      expect(used).toContain(name);
    }
    const missing = [...used].filter((name) => !exported.has(name));
    expect(missing).toEqual([]);
    expect(dashboard.panels.map((panel) => panel.title)).toContain("Rollup backlog");
  });
});
