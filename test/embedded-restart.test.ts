// The embedded PostgreSQL killed under a running service: /readyz answers 503 while it is
// gone, the service starts it again by itself, counts the restart in
// fleet_embedded_postgres_restarts_total, and writes succeed afterwards. /healthz stays
// about the process and answers 200 throughout.
import { afterAll, describe, expect, it } from "bun:test";
import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { freePort } from "./support/server.ts";
import { makeDataDir, postJson, startService } from "./support/service.ts";

const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

const RESTARTS = "fleet_embedded_postgres_restarts_total";

async function restartCount(base: string): Promise<number | undefined> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const sample = text.split("\n").find((line) => line.startsWith(`${RESTARTS} `));
  return sample === undefined ? undefined : Number(sample.split(" ")[1]);
}

/** Polls until probe answers true, failing after deadlineMs. */
async function until(what: string, deadlineMs: number, probe: () => Promise<boolean>) {
  const deadline = performance.now() + deadlineMs;
  while (!(await probe())) {
    if (performance.now() > deadline) throw new Error(`${what}: not within ${deadlineMs} ms`);
    await Bun.sleep(50);
  }
}

const readyz = (base: string) =>
  fetch(`${base}/readyz`)
    .then((response) => response.status)
    .catch(() => -1);

describe("the embedded PostgreSQL dying under a running service", () => {
  it("is restarted, counted, and the service answers again", async () => {
    const dataDir = await makeDataDir("fleet-restart-");
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const { child, base } = await startService({ DATA_DIR: dataDir, EMBEDDED_PG_PORT: String(await freePort()) });
    cleanups.push(async () => {
      child.kill("SIGTERM");
      await child.exited;
    });
    expect(await restartCount(base)).toBe(0);

    const pidFile = join(dataDir, "postgres", "postmaster.pid");
    const postmaster = Number((await readFile(pidFile, "utf8")).split("\n")[0]);
    expect(postmaster).toBeGreaterThan(0);
    process.kill(postmaster, "SIGKILL");

    await until("/readyz answering 503 after the kill", 15_000, async () => (await readyz(base)) === 503);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    await until("/readyz answering 200 after the restart", 60_000, async () => (await readyz(base)) === 200);
    // Counted when the server's "ready" line is read, which may come just after its first connection.
    await until("the restart counted", 10_000, async () => (await restartCount(base)) !== 0);
    expect(await restartCount(base)).toBe(1);
    const restarted = Number((await readFile(pidFile, "utf8")).split("\n")[0]);
    expect(restarted).not.toBe(postmaster);

    const reading = {
      meterId: "550e8400-e29b-41d4-a716-446655440000",
      kwhConsumedAc: 1.5,
      voltage: 230,
      timestamp: new Date(Date.now() - 60_000).toISOString(),
    };
    const write = await postJson(`${base}/v1/telemetry/meter`, reading);
    expect(write.status).toBe(201);

    child.kill("SIGTERM");
    expect(await child.exited).toBe(0); // the restarted server stops with the service
  }, 120_000);
});
