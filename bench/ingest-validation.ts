// `bun bench/ingest-validation.ts [requests] [runs]`: what the HTTP layer costs a single
// reading, with no database: POST /v1/telemetry/vehicle through app.request() against a
// writer that stores nothing. Routing, the media-type and size guards, zod validation and
// the JSON answer are all that is measured, so a change to any of them shows up here.
// Prints each run and the medians, in microseconds per request: wall time, and CPU time
// (user + system), which a machine shared with other work disturbs less.
import { createApp } from "../src/app.ts";
import type { Db, Sql } from "../src/db/client.ts";
import type { TelemetryWriter } from "../src/telemetry/writer.ts";

const requests = Number(Bun.argv[2] ?? 20_000);
const runs = Number(Bun.argv[3] ?? 5);

const none = { stored: 0, duplicates: 0 };
const writer: TelemetryWriter = {
  writeMeter: async () => "stored",
  writeVehicle: async () => "stored",
  writeBatch: async () => ({ ...none, meters: none, vehicles: none }),
  queued: () => 0,
  close: async () => {},
};
// The vehicle route never reaches the database: these are never called.
const app = createApp({ sql: {} as Sql, db: {} as Db, writer, now: () => new Date("2026-03-15T12:00:00Z") });

const body = JSON.stringify({
  vehicleId: "0b6c3f0e-6f43-4f55-9a4e-2d1a6f6a8c11",
  soc: 57.25,
  kwhDeliveredDc: 1.234,
  batteryTemp: 24.5,
  timestamp: "2026-03-15T11:59:00Z",
});
const init = { method: "POST", headers: { "content-type": "application/json" }, body };

async function run(count: number): Promise<{ wall: number; cpu: number }> {
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  for (let i = 0; i < count; i++) {
    const response = await app.request("/v1/telemetry/vehicle", init);
    if (response.status !== 201) throw new Error(`answered ${response.status}: ${await response.text()}`);
    await response.arrayBuffer();
  }
  const cpu = process.cpuUsage(cpuBefore);
  return { wall: ((performance.now() - started) * 1000) / count, cpu: (cpu.user + cpu.system) / count };
}

await run(2_000); // warm-up: let the JIT settle before anything is timed
const wall: number[] = [];
const cpu: number[] = [];
for (let i = 0; i < runs; i++) {
  const micros = await run(requests);
  wall.push(micros.wall);
  cpu.push(micros.cpu);
  console.log(`run ${i + 1}: ${micros.wall.toFixed(2)} µs/request wall, ${micros.cpu.toFixed(2)} µs CPU`);
}
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
console.log(
  `median of ${runs} runs of ${requests} requests: ${median(wall).toFixed(2)} µs/request wall, ${median(cpu).toFixed(2)} µs CPU`,
);
