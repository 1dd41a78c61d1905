// Ingest under read pressure and /healthz under big bodies, against a running service:
//
//   bun bench/pressure.ts --url http://127.0.0.1:3000 [--seconds 15] [--devices 1000] [--healthz-only]
//
// 1. Seeds `devices` vehicles and meters with a day of hourly readings, linked in pairs.
// 2. Ingest alone: 4 clients send single readings for `seconds`; p50/p99/max.
// 3. The same while 20 clients ask for the 31-day fleet view and 20 scrape /metrics.
// 4. /healthz probed every 20 ms for 3 s alone (what the machine's load costs it), then
//    while four 16 MB bodies of `[` arrive at once (sent by curl, so this process only
//    probes); their answers and the probe's latencies.
// Run it against the service as configured by default (open, no keys).
//
// Measured 2026-12-03 on the 2-core development machine, shared with other work (load
// average 12-19 throughout), service and bench on it together, each service on a fresh
// embedded database (`PORT=… EMBEDDED_PG_PORT=… DATA_DIR=… bun src/index.ts`), 1,000
// devices, 15 s a phase; before = the code without these bounds, after = with them:
//
//   ingest p99 alone                  before 51.6 / 43.8 ms      after 40 / 94 ms
//   ingest p99, 20 fleet + 20 scrapes before 3,276 / 5,153 ms   after 414 / 498 ms
//     (readings written in those 15 s: before 37 / 21, after 802 / 431)
//   /metrics scrapes answered         before 258 / 114          after 42,866 / 10,753
//   /healthz max, four 16 MB bodies   before 58,971 / 32,450 ms after 132 / 150 / 113 / 139 ms
//     (the bodies: before 400 after 34-107 s each; after 413 within 0.07 s; /healthz
//     alone, no bodies, on the same machine: max 24-38 ms)
import { randomUUID } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    url: { type: "string", default: "http://127.0.0.1:3000" },
    seconds: { type: "string", default: "15" },
    devices: { type: "string", default: "1000" },
    "healthz-only": { type: "boolean", default: false },
  },
});
const base = values.url as string;
const seconds = Number(values.seconds);
const devices = Number(values.devices);
const HOUR = 3_600_000;

const quantile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
const summary = (latencies: number[]) => {
  const sorted = [...latencies].sort((a, b) => a - b);
  const ms = (value: number) => Math.round(value * 10) / 10;
  return {
    count: sorted.length,
    p50: ms(quantile(sorted, 0.5)),
    p99: ms(quantile(sorted, 0.99)),
    max: ms(sorted.at(-1) ?? 0),
  };
};

async function seed() {
  const now = Date.now();
  const pairs = Array.from({ length: devices }, () => ({ vehicleId: randomUUID(), meterId: randomUUID() }));
  for (let start = 0; start < pairs.length; start += 100) {
    const slice = pairs.slice(start, start + 100);
    const meters = [];
    const vehicles = [];
    for (const { vehicleId, meterId } of slice) {
      for (let h = 1; h <= 24; h++) {
        const timestamp = new Date(now - h * HOUR).toISOString();
        meters.push({ meterId, kwhConsumedAc: 1.2, voltage: 230, timestamp });
        vehicles.push({ vehicleId, soc: 50, kwhDeliveredDc: 1, batteryTemp: 25, timestamp });
      }
    }
    const response = await post("/v1/telemetry/batch", { meters, vehicles });
    if (response.status >= 300) throw new Error(`seeding failed: ${response.status} ${await response.text()}`);
  }
  for (const pair of pairs) await post("/v1/mappings", pair);
}

const post = (path: string, body: unknown) =>
  fetch(base + path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

/** Clients sending single readings until `until`; answers their latencies and statuses. */
async function ingest(clients: number, until: number) {
  const latencies: number[] = [];
  const statuses = new Map<number, number>();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      const meterId = randomUUID();
      for (let n = 0; performance.now() < until; n++) {
        const timestamp = new Date(Date.now() - 2 * HOUR + n * 1000).toISOString();
        const started = performance.now();
        const response = await post("/v1/telemetry/meter", { meterId, kwhConsumedAc: 0.5, voltage: 230, timestamp });
        await response.arrayBuffer();
        latencies.push(performance.now() - started);
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
      }
    }),
  );
  return { ...summary(latencies), statuses: Object.fromEntries(statuses) };
}

/** Clients GETting `path` until `until`; answers their latencies and statuses. */
async function reads(clients: number, path: string, until: number) {
  const latencies: number[] = [];
  const statuses = new Map<number, number>();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (performance.now() < until) {
        const started = performance.now();
        const response = await fetch(base + path).catch(() => undefined);
        await response?.arrayBuffer();
        latencies.push(performance.now() - started);
        const status = response?.status ?? 0;
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
      }
    }),
  );
  return { ...summary(latencies), statuses: Object.fromEntries(statuses) };
}

async function healthzAlone(ms: number) {
  const latencies: number[] = [];
  for (const until = performance.now() + ms; performance.now() < until; ) {
    const started = performance.now();
    await (await fetch(`${base}/healthz`)).arrayBuffer();
    latencies.push(performance.now() - started);
    await Bun.sleep(20);
  }
  return summary(latencies);
}

async function healthzDuringBigBodies() {
  const file = join(tmpdir(), `pressure-deep-${process.pid}.json`);
  await writeFile(file, "[".repeat(16_000_000));
  const latencies: number[] = [];
  let isSending = true;
  const probe = (async () => {
    while (isSending) {
      const started = performance.now();
      await (await fetch(`${base}/healthz`)).arrayBuffer();
      latencies.push(performance.now() - started);
      await Bun.sleep(20);
    }
  })();
  const started = performance.now();
  const uploads = Array.from({ length: 4 }, async () => {
    const curl = Bun.spawn(
      [
        "curl",
        "-s",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code} %{time_total}",
        "-X",
        "POST",
        "-H",
        "Content-Type: application/json",
        "--data-binary",
        `@${file}`,
        `${base}/v1/telemetry/batch`,
      ],
      { stdout: "pipe" },
    );
    return (await new Response(curl.stdout).text()).trim();
  });
  const answers = await Promise.all(uploads);
  const elapsedMs = Math.round(performance.now() - started);
  isSending = false;
  await probe;
  return { answers, elapsedMs, healthz: summary(latencies) };
}

const fleetPath = () => {
  const to = new Date(Math.floor(Date.now() / HOUR) * HOUR);
  const from = new Date(to.getTime() - 31 * 24 * HOUR);
  return `/v1/analytics/fleet?from=${from.toISOString()}&to=${to.toISOString()}`;
};

if (!values["healthz-only"]) {
  await seed();
  console.log(JSON.stringify({ phase: "seeded", devices }));
  const alone = await ingest(4, performance.now() + seconds * 1000);
  console.log(JSON.stringify({ phase: "ingest alone", ...alone }));
  const until = performance.now() + seconds * 1000;
  const [pressed, fleet, metrics] = await Promise.all([
    ingest(4, until),
    reads(20, fleetPath(), until),
    reads(20, "/metrics", until),
  ]);
  console.log(JSON.stringify({ phase: "ingest with 20 fleet + 20 /metrics clients", ...pressed }));
  console.log(JSON.stringify({ phase: "fleet clients", ...fleet }));
  console.log(JSON.stringify({ phase: "/metrics clients", ...metrics }));
}
console.log(JSON.stringify({ phase: "/healthz alone", ...(await healthzAlone(3_000)) }));
console.log(JSON.stringify({ phase: "/healthz during four 16 MB bodies", ...(await healthzDuringBigBodies()) }));
