// A JSON batch costs what it is worth: the default size cap fits the largest batch a
// client may send, nesting is refused by a scan before anything is parsed, and large
// bodies are handled a few at a time (503 busy past that), writing nothing.
import { describe, expect, it } from "bun:test";
import { DEFAULT_LIMITS } from "../src/config.ts";
import { PoolGate } from "../src/db/pool-gate.ts";
import { nestingDepth } from "../src/http/json-body.ts";
import { createGroupCommitWriter } from "../src/telemetry/group-commit-writer.ts";
import { LARGE_BATCH_CHARS, MAX_JSON_DEPTH } from "../src/telemetry/routes.ts";
import { useTestApp } from "./support/database.ts";
import { meterReading, postJson, vehicleReading } from "./support/http.ts";

const t = useTestApp();

const storedReadings = async () => {
  const [row] = await t.database.sql`
    select (select count(*) from meter_telemetry) + (select count(*) from vehicle_telemetry) as count
  `;
  return Number(row?.count);
};

describe("the size of a batch", () => {
  it("lets the largest batch allowed, with every field at its widest, under the default cap", () => {
    const wide = { timestamp: "2026-03-15T11:59:59.999+05:30" };
    const half = DEFAULT_LIMITS.maxBatchReadings / 2;
    const body = JSON.stringify({
      meters: Array.from({ length: half }, () =>
        meterReading({ ...wide, kwhConsumedAc: 9999999.999, voltage: 9999.99 }),
      ),
      vehicles: Array.from({ length: half }, () =>
        vehicleReading({ ...wide, soc: 99.99, kwhDeliveredDc: 9999999.999, batteryTemp: -999.99 }),
      ),
    });
    expect(body.length).toBeLessThan(DEFAULT_LIMITS.maxBatchBytes);
    expect(DEFAULT_LIMITS.maxBatchBytes).toBe(2 * 1024 * 1024);
  });

  it("refuses a body over the cap with 413, writing nothing", async () => {
    const before = await storedReadings();
    const padding = " ".repeat(DEFAULT_LIMITS.maxBatchBytes);
    const answer = await postJson(
      t.app,
      "/v1/telemetry/batch",
      `{"meters":[${JSON.stringify(meterReading())}]}${padding}`,
    );
    expect(answer.status).toBe(413);
    expect(answer.body.error.code).toBe("payload_too_large");
    expect(await storedReadings()).toBe(before);
  });
});

describe("nesting", () => {
  it("counts brackets outside strings only, escapes included", () => {
    expect(nestingDepth('{"meters":[{"a":1}]}', 8)).toBe(3);
    expect(nestingDepth('{"note":"[[[[{{{{\\"[[["}', 8)).toBe(1);
    expect(nestingDepth("[".repeat(1_000), 8)).toBe(9);
    expect(nestingDepth("[]".repeat(50), 8)).toBe(1);
  });

  it("refuses a body of brackets under the cap at once, with 400 nesting_too_deep", async () => {
    const started = performance.now();
    const answer = await postJson(t.app, "/v1/telemetry/batch", "[".repeat(DEFAULT_LIMITS.maxBatchBytes - 1));
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe("nesting_too_deep");
    // JSON.parse took seconds over such bodies; the scan takes milliseconds.
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it("refuses deep objects behind a valid beginning, and takes what nests as deep as allowed", async () => {
    const deep = `{"meters":[{"meterId":${'{"a":'.repeat(MAX_JSON_DEPTH)}1${"}".repeat(MAX_JSON_DEPTH)}}]}`;
    const refused = await postJson(t.app, "/v1/telemetry/batch", deep);
    expect(refused.status).toBe(400);
    expect(refused.body.error.code).toBe("nesting_too_deep");

    // Exactly MAX_JSON_DEPTH levels passes the scan, and is judged by the schema.
    const levels = MAX_JSON_DEPTH - 3;
    const allowed = `{"meters":[{"meterId":${'{"a":'.repeat(levels)}1${"}".repeat(levels)}}]}`;
    expect(nestingDepth(allowed, MAX_JSON_DEPTH)).toBe(MAX_JSON_DEPTH);
    const judged = await postJson(t.app, "/v1/telemetry/batch", allowed);
    expect(judged.status).toBe(400);
    expect(judged.body.error.code).toBe("validation_failed");
  });
});

describe("large bodies at once", () => {
  it("answers 503 busy past the bound while a large batch is in hand, and takes it once done", async () => {
    const gate = new PoolGate(1, 10_000);
    const writer = createGroupCommitWriter(t.database.sql, t.partitions, {
      maxQueued: 100,
      maxFlush: 100,
      flushConcurrency: 1,
      gate,
    });
    const { createApp } = await import("../src/app.ts");
    const app = createApp({
      sql: t.database.sql,
      db: t.database.db,
      writer,
      partitions: t.partitions,
      gates: { write: gate },
      limits: { maxLargeBatches: 1 },
      onUnexpectedError: (error) => t.unexpected.push(error),
    });
    // Large by its size alone: a few readings padded with whitespace.
    const large = (readings = [meterReading(), meterReading()]) =>
      `{"meters":${JSON.stringify(readings)},"vehicles":[]}${" ".repeat(LARGE_BATCH_CHARS)}`;
    const firstReadings = [meterReading(), meterReading(), meterReading()];
    const first = large(firstReadings);

    // The first large batch holds the one large-body slot while it waits for the pool.
    let letGo = () => {};
    const held = gate.run(() => new Promise<void>((resolve) => (letGo = resolve)));
    const firstAnswer = postJson(app, "/v1/telemetry/batch", first);
    const deadline = Date.now() + 5_000;
    while (gate.waiting < 1) {
      if (Date.now() > deadline) throw new Error("the first batch never reached the pool's gate");
      await new Promise((resolve) => setTimeout(resolve, 5));
    }

    const before = await storedReadings();
    const refused = await postJson(app, "/v1/telemetry/batch", large());
    expect(refused.status).toBe(503);
    expect(refused.body.error.code).toBe("busy");
    expect(refused.headers.get("retry-after")).toBe("1");
    // A small batch needs no slot (it waits for the pool like any write).
    const small = postJson(app, "/v1/telemetry/batch", { meters: [meterReading()], vehicles: [] });
    letGo();
    await held;
    expect((await small).status).toBe(201);
    expect((await firstAnswer).status).toBe(201);
    expect(await storedReadings()).toBe(before + firstReadings.length + 1);

    // The slot was given back: the next large batch is taken.
    expect((await postJson(app, "/v1/telemetry/batch", large())).status).toBe(201);
    await writer.close();
  });
});
