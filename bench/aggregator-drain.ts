// `bun bench/aggregator-drain.ts [--kind meter|vehicle] [--lines 600000] [--uploads 2]`:
// how long the rollup aggregator takes to drain what ordinary gateway uploads leave
// pending, after a trickle of single readings has let PostgreSQL plan its statements on
// near-empty pending tables. Starts the service (bench/service.ts) on a fresh embedded
// database, sends 20 single readings/s (one new device each) for 12 s, then the uploads
// back to back (NDJSON, `lines` readings each: `lines / 1000` devices × 1,000 minutes of
// the last 20 hours), the trickle going on throughout; then waits until nothing queued
// before the last upload's answer is still pending (the trickle always leaves a few
// readings pending). Prints each upload's time, the drain time after the last one, and
// the single readings' answers by status and error code (`503 overloaded`: the backlog gate).
import { randomUUID } from "node:crypto";
import { parseArgs } from "node:util";
import { createSql, type Sql } from "../src/db/client.ts";
import { describeCode, describeMachine, readLoadAverage } from "./machine.ts";
import { closeBacklogReads, readBacklog } from "./rollup-backlog.ts";
import { REPO_ROOT, startService } from "./service.ts";

const { values } = parseArgs({
  options: {
    kind: { type: "string", default: "meter" },
    lines: { type: "string", default: "600000" },
    uploads: { type: "string", default: "2" },
    "trickle-seconds": { type: "string", default: "12" },
    "drain-limit-seconds": { type: "string", default: "900" },
  },
});
const kind = values.kind === "vehicle" ? "vehicle" : "meter";
const lines = Number(values.lines);
const uploads = Number(values.uploads);
const log = (line: string) => console.error(`[drain] ${line}`);

const reading = (deviceId: string, timestamp: string) =>
  kind === "meter"
    ? { meterId: deviceId, kwhConsumedAc: 0.183, voltage: 230.5, timestamp }
    : { vehicleId: deviceId, soc: 55.5, kwhDeliveredDc: 0.166, batteryTemp: 24.25, timestamp };

/** One upload's body: `lines / 1000` new devices, each with a reading a minute for 1,000 minutes. */
function makeUpload(endMs: number): string {
  const devices = Array.from({ length: Math.ceil(lines / 1000) }, () => randomUUID());
  const start = endMs - 20 * 3_600_000;
  const parts: string[] = [];
  for (let i = 0; i < lines; i++) {
    const timestamp = new Date(start + Math.floor(i / devices.length) * 60_000).toISOString();
    parts.push(JSON.stringify({ type: kind, ...reading(devices[i % devices.length] as string, timestamp) }));
  }
  return `${parts.join("\n")}\n`;
}

/** 20 single readings a second, one new device each, counted by status and error code, until stopped. */
function startTrickle(url: string) {
  const statuses = new Map<string, number>();
  let isStopped = false;
  const loop = (async () => {
    while (!isStopped) {
      const started = performance.now();
      const status = await fetch(`${url}/v1/telemetry/${kind}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(reading(randomUUID(), new Date().toISOString())),
        signal: AbortSignal.timeout(30_000),
      }).then(
        async (response) => {
          // A refusal is told by its code: `overloaded` is the backlog gate.
          const body = (await response.json().catch(() => ({}))) as { error?: { code?: string } };
          return [response.status, body.error?.code].filter(Boolean).join(" ");
        },
        () => "no answer",
      );
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      await Bun.sleep(Math.max(0, 50 - (performance.now() - started)));
    }
  })();
  return {
    statuses,
    stop: async () => {
      isStopped = true;
      await loop;
    },
  };
}

/**
 * Seconds until no reading queued up to now is pending any more, polled every 100 ms for
 * at most `limitMs`; NaN if that never happened.
 */
async function waitForDrain(sql: Sql, limitMs: number): Promise<number> {
  const started = performance.now();
  const [mark] = await sql<{ at: string }[]>`select clock_timestamp()::text as at`;
  const at = mark?.at ?? "infinity";
  for (;;) {
    const polled = performance.now();
    const [row] = await sql<{ isDrained: boolean }[]>`
      select not exists (select 1 from meter_pending where queued_at <= ${at}::timestamptz)
         and not exists (select 1 from vehicle_pending where queued_at <= ${at}::timestamptz) as "isDrained"
    `;
    if (row?.isDrained) return (polled - started) / 1000;
    if (performance.now() - started >= limitMs) return Number.NaN;
    await Bun.sleep(100);
  }
}

const loadAverage = readLoadAverage();
const code = describeCode(REPO_ROOT); // before the run: what the service is started from
const service = await startService(log);
try {
  const context = { url: service.url, headers: {}, databaseUrl: service.databaseUrl };
  const trickle = startTrickle(service.url);
  await Bun.sleep(Number(values["trickle-seconds"]) * 1000);
  const bodies = Array.from({ length: uploads }, () => makeUpload(Date.now()));
  for (const [index, body] of bodies.entries()) {
    const started = performance.now();
    const response = await fetch(`${service.url}/v1/telemetry/batch`, {
      method: "POST",
      headers: { "content-type": "application/x-ndjson" },
      body,
    });
    const answer = await response.text();
    const { pendingReadings } = await readBacklog(context);
    log(
      `upload ${index + 1}: ${response.status} ${answer.slice(0, 80)} in ${((performance.now() - started) / 1000).toFixed(1)} s; ${pendingReadings} pending`,
    );
  }
  const sql = createSql({ url: service.databaseUrl, poolSize: 1, connectTimeoutSeconds: 30 });
  const drainSeconds = await waitForDrain(sql, Number(values["drain-limit-seconds"]) * 1000);
  await sql.end();
  await Bun.sleep(1000); // a second of the trickle after the drain: are writes taken again?
  await trickle.stop();
  const drained = Number.isNaN(drainSeconds)
    ? `not drained within ${values["drain-limit-seconds"]} s`
    : `${drainSeconds.toFixed(1)} s`;
  const machine = describeMachine("", loadAverage);
  console.log(`code ${code}; ${machine.cores} cores, load average ${loadAverage.toFixed(2)} at start`);
  console.log(`kind ${kind}, ${uploads} uploads of ${lines} lines after a trickle`);
  console.log(`drain after the last upload: ${drained}`);
  console.log(`single readings by answer: ${JSON.stringify(Object.fromEntries(trickle.statuses))}`);
} finally {
  await closeBacklogReads();
  await service.stop();
}
