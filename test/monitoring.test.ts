// deploy/'s monitoring: promtool accepts the config, rules and live /metrics, and the alerts pass their unit
// tests (deploy/prometheus-rules.test.yml); dashboards and alerts query real metrics; every alert has a
// runbook line. The promtool checks skip, saying why, when promtool is not installed (apt-get install prometheus).
import { describe, expect, it } from "bun:test";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { YAML } from "bun";
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
  const metrics = createMetrics({
    sql: t.database.sql,
    poolSize: 8,
    queued: () => t.writer.queued(),
    pendingLimit: 1_000_000,
  });
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

interface Rule {
  alert: string;
  expr: string;
}

async function alertRules(): Promise<Rule[]> {
  const rules = YAML.parse(await readFile(join(DEPLOY, "prometheus-rules.yml"), "utf8")) as {
    groups: { rules: Rule[] }[];
  };
  return rules.groups.flatMap((group) => group.rules);
}

/**
 * Every metric name /metrics declares, with or without samples yet, and the series a
 * histogram or summary adds: a counter another module declares counts once it is there.
 */
function declaredNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm) as IterableIterator<string[]>) {
    names.add(name as string);
    if (type === "histogram") for (const suffix of ["_bucket", "_count", "_sum"]) names.add(`${name}${suffix}`);
    if (type === "summary") for (const suffix of ["_count", "_sum"]) names.add(`${name}${suffix}`);
  }
  return names;
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

  it("passes the alert rules' unit tests", () => {
    const { exitCode, output } = run(["test", "rules", join(DEPLOY, "prometheus-rules.test.yml")]);
    expect(output).toContain("SUCCESS");
    expect(exitCode).toBe(0);
  });
});

describe("the alert rules", () => {
  it("are each unit-tested firing, and each has a runbook line in docs/operations.md", async () => {
    const tests = YAML.parse(await readFile(join(DEPLOY, "prometheus-rules.test.yml"), "utf8")) as {
      tests: { alert_rule_test: { alertname: string; exp_alerts: unknown[] }[] }[];
    };
    const firing = new Set(
      tests.tests.flatMap((group) =>
        group.alert_rule_test.filter((check) => check.exp_alerts.length > 0).map((check) => check.alertname),
      ),
    );
    const operations = await readFile(join(import.meta.dir, "..", "docs", "operations.md"), "utf8");
    const alerts = (await alertRules()).map((rule) => rule.alert);
    expect(alerts.filter((alert) => !firing.has(alert))).toEqual([]);
    expect(alerts.filter((alert) => !operations.includes(`**${alert}**`))).toEqual([]);
  });
});

describe("the Grafana dashboard and the alert rules", () => {
  it("query only metrics the service exports", async () => {
    const text = await liveMetrics();
    const exported = declaredNames(text);
    const dashboard = JSON.parse(await readFile(join(DEPLOY, "grafana-dashboard.json"), "utf8")) as {
      panels: { title: string; targets: { expr: string }[] }[];
    };
    const expressions = [
      ...dashboard.panels.flatMap((panel) => panel.targets.map((target) => target.expr)),
      ...(await alertRules()).map((rule) => rule.expr),
    ];
    const used = new Set(expressions.flatMap(metricNames));
    for (const name of [
      "fleet_readings_total",
      "fleet_write_flush_duration_seconds_bucket",
      "fleet_write_queue_depth",
      "fleet_rollup_pending_limit",
      "fleet_rollup_oldest_pending_seconds",
    ]) {
      expect(used).toContain(name);
    }
    const missing = [...used].filter((name) => !exported.has(name));
    expect(missing).toEqual([]);
    expect(dashboard.panels.map((panel) => panel.title)).toContain("Rollup backlog");
  });
});
