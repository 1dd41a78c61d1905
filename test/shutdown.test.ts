// A clean shutdown loses nothing: readings acknowledged before or during SIGTERM are there after a restart.
// That holds with a second signal sent on top of the first.
import { afterAll, describe, expect, it, setDefaultTimeout } from "bun:test";
import { rm } from "node:fs/promises";
import { newId } from "./support/http.ts";
import { freePort } from "./support/server.ts";
import { connectEmbedded, makeDataDir, postJson, startService } from "./support/service.ts";

// Real processes, browsers or a whole simulated fleet: seconds each on a busy machine, more than the default five.
setDefaultTimeout(30_000);

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

/** Sends readings from `loops` concurrent clients until told to stop; answers the acknowledged ones. */
function driveLoad(base: string, loops: number) {
  const acknowledged: string[] = [];
  const failures: number[] = [];
  let isStopped = false;
  const clients = Array.from({ length: loops }, async () => {
    while (!isStopped) {
      const meterId = newId();
      const reading = { meterId, kwhConsumedAc: 0.5, voltage: 230, timestamp: "2026-01-10T10:00:00Z" };
      const response = await postJson(`${base}/v1/telemetry/meter`, reading, AbortSignal.timeout(10_000)).catch(
        () => undefined,
      );
      if (response && response.status >= 200 && response.status < 300) acknowledged.push(meterId);
      else if (response && response.status !== 503) failures.push(response.status);
      else if (!response) await Bun.sleep(5); // the listener is gone; stop hammering
      await response?.arrayBuffer().catch(() => {});
    }
  });
  return {
    acknowledged,
    failures,
    async stop() {
      isStopped = true;
      await Promise.all(clients);
    },
  };
}

async function shutDownUnderLoad(signals: NodeJS.Signals[]) {
  const dataDir = await makeDataDir("fleet-shutdown-");
  dirs.push(dataDir);
  const pgPort = String(await freePort());
  const env = { DATA_DIR: dataDir, EMBEDDED_PG_PORT: pgPort };
  const first = await startService(env);
  const load = driveLoad(first.base, 32);
  while (load.acknowledged.length < 300) await Bun.sleep(10);
  for (const signal of signals) {
    first.child.kill(signal);
    await Bun.sleep(20);
  }
  expect(await first.child.exited).toBe(0);
  await load.stop();
  // During shutdown a client may see 201, 503 shutting_down or a closed connection; nothing else.
  expect(load.failures).toEqual([]);
  const acknowledged = new Set(load.acknowledged);

  const second = await startService(env);
  const sql = await connectEmbedded(dataDir, pgPort);
  try {
    const rows = await sql<{ meter_id: string }[]>`select meter_id from meter_telemetry`;
    const stored = new Set(rows.map((row) => row.meter_id));
    const missing = [...acknowledged].filter((id) => !stored.has(id));
    expect(missing).toEqual([]);
    expect(rows.length).toBe(stored.size);
  } finally {
    await sql.end();
    second.child.kill("SIGTERM");
    await second.child.exited;
  }
  return acknowledged.size;
}

describe("clean shutdown", () => {
  it("keeps every reading acknowledged before and during SIGTERM", async () => {
    expect(await shutDownUnderLoad(["SIGTERM"])).toBeGreaterThanOrEqual(300);
  }, 120_000);

  it("keeps them too when a second signal arrives during shutdown", async () => {
    expect(await shutDownUnderLoad(["SIGTERM", "SIGINT"])).toBeGreaterThanOrEqual(300);
  }, 120_000);
});
