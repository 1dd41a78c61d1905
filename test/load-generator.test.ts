// The load tool (tools/load): believable physics inside the API's limits, determinism, exact verification.
// A whole run against the in-process app verifies clean, and notices when it should not.
import { describe, expect, it, setDefaultTimeout } from "bun:test";
import { parseCommandLine, type RunOptions } from "../tools/load/cli-options.ts";
import { formatThousandths, parseThousandths, roundTo, toThousandths } from "../tools/load/decimal.ts";
import { describeDevices, type FleetReading, generateFleetReadings } from "../tools/load/fleet.ts";
import { createHttpClient, readRetryAfterMs } from "../tools/load/http-client.ts";
import { createLedger } from "../tools/load/ledger.ts";
import { createInitialState, createProfile, simulateMinute, type VehicleState } from "../tools/load/physics.ts";
import { createRandom, deriveUuid } from "../tools/load/random.ts";
import { runLoad } from "../tools/load/run.ts";
import { compareTotals } from "../tools/load/verify.ts";
import { DEFAULT_NOW, useTestApp } from "./support/database.ts";

// Real processes, browsers or a whole simulated fleet: seconds each on a busy machine, more than the default five.
setDefaultTimeout(30_000);

const t = useTestApp();

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** The server's own test: value x 10^scale is an integer, give or take float noise. */
const hasAtMostDecimals = (value: number, scale: number) => {
  const scaled = value * 10 ** scale;
  return Math.abs(scaled - Math.round(scaled)) <= 1e-5;
};

const collect = (options: Parameters<typeof generateFleetReadings>[0]) => [...generateFleetReadings(options)];

const START = new Date("2026-03-15T08:00:00Z");

describe("physics", () => {
  it("keeps every reading inside the API's ranges and decimals, with DC <= AC", () => {
    let charging = 0;
    for (const reading of generateFleetReadings({ size: 100, seed: "ranges", start: START, minutes: 600 })) {
      const { meter, vehicle } = reading;
      expect(meter.kwhConsumedAc).toBeGreaterThanOrEqual(0);
      expect(hasAtMostDecimals(meter.kwhConsumedAc, 3)).toBe(true);
      expect(vehicle.kwhDeliveredDc).toBeGreaterThanOrEqual(0);
      expect(hasAtMostDecimals(vehicle.kwhDeliveredDc, 3)).toBe(true);
      expect(vehicle.kwhDeliveredDc).toBeLessThanOrEqual(meter.kwhConsumedAc);
      expect(vehicle.soc).toBeGreaterThanOrEqual(0);
      expect(vehicle.soc).toBeLessThanOrEqual(100);
      expect(hasAtMostDecimals(vehicle.soc, 2)).toBe(true);
      expect(vehicle.batteryTemp).toBeGreaterThan(-40);
      expect(vehicle.batteryTemp).toBeLessThan(60);
      expect(hasAtMostDecimals(vehicle.batteryTemp, 2)).toBe(true);
      expect(meter.voltage).toBeGreaterThan(220);
      expect(meter.voltage).toBeLessThan(235);
      expect(hasAtMostDecimals(meter.voltage, 2)).toBe(true);
      if (vehicle.kwhDeliveredDc > 0) charging++;
    }
    // The fleet really charges: most vehicles start plugged in.
    expect(charging).toBeGreaterThan(100 * 60);
  });

  it("charges at P/60 kWh a minute with efficiency in [0.85, 0.95], SoC rising and the battery warming", () => {
    for (let vehicle = 0; vehicle < 50; vehicle++) {
      const random = createRandom(`session:${vehicle}`);
      const profile = createProfile(random);
      let state: VehicleState = { ...createInitialState(profile, random), activity: "charging", soc: 20 };
      const startTemp = state.batteryTemp;
      let [ac, dc, minutes] = [0, 0, 0];
      while (state.activity === "charging") {
        const { readings, next } = simulateMinute(profile, state, random);
        expect(readings.kwhConsumedAc).toBeCloseTo(profile.chargePowerKw / 60, 2);
        const efficiency = readings.kwhDeliveredDc / readings.kwhConsumedAc;
        expect(efficiency).toBeGreaterThanOrEqual(0.85);
        expect(efficiency).toBeLessThanOrEqual(0.95);
        expect(readings.soc).toBeGreaterThan(roundTo(state.soc, 2));
        ac += toThousandths(readings.kwhConsumedAc);
        dc += toThousandths(readings.kwhDeliveredDc);
        minutes++;
        state = next;
        expect(minutes).toBeLessThan(24 * 60);
      }
      expect(dc / ac).toBeGreaterThanOrEqual(0.85);
      expect(dc / ac).toBeLessThanOrEqual(0.95);
      // The session stopped at its target, and SoC grew by exactly the DC it received.
      expect(state.soc).toBeGreaterThanOrEqual(state.targetSoc - 20);
      expect(state.soc - 20).toBeCloseTo((dc / 1000 / profile.capacityKwh) * 100, 6);
      expect(state.batteryTemp).toBeGreaterThan(startTemp);
    }
  });

  it("reports no DC and at most a standby trickle of AC when not charging", () => {
    const random = createRandom("idle");
    const profile = createProfile(random);
    const state: VehicleState = { activity: "idle", soc: 90, batteryTemp: profile.ambientC + 10, targetSoc: 85 };
    const { readings, next } = simulateMinute(profile, state, random);
    expect(readings.kwhDeliveredDc).toBe(0);
    expect(readings.kwhConsumedAc).toBeLessThanOrEqual(0.001);
    expect(next.batteryTemp).toBeLessThan(state.batteryTemp);
  });
});

describe("generator", () => {
  it("is deterministic for a seed, and a vehicle's readings do not depend on the fleet size", () => {
    const options = { size: 20, seed: "same", start: START, minutes: 30 };
    const first = collect(options);
    expect(collect(options)).toEqual(first);
    const bigger = collect({ ...options, size: 40 }).filter((reading) => reading.index < 20);
    expect(bigger).toEqual(first);
    const other = collect({ ...options, seed: "other" });
    expect(other[0]?.vehicle.vehicleId).not.toBe(first[0]?.vehicle.vehicleId);
  });

  it("yields minute by minute, one instant per minute, with distinct v4 UUIDs", () => {
    const readings = collect({ size: 3, seed: "order", start: START, minutes: 2 });
    expect(readings.map((reading) => [reading.minute, reading.index])).toEqual([
      [0, 0],
      [0, 1],
      [0, 2],
      [1, 0],
      [1, 1],
      [1, 2],
    ]);
    expect(readings[3]?.timestamp).toBe("2026-03-15T08:01:00.000Z");
    expect(readings[3]?.meter.timestamp).toBe(readings[3]?.vehicle.timestamp as string);
    const ids = readings.slice(0, 3).flatMap((reading) => [reading.meter.meterId, reading.vehicle.vehicleId]);
    expect(new Set(ids).size).toBe(6);
    for (const id of ids) expect(id).toMatch(UUID_V4);
    expect(describeDevices("order", 1).vehicleId).toBe(readings[1]?.vehicle.vehicleId as string);
    expect(deriveUuid("x")).toBe(deriveUuid("x"));
  });
});

describe("exact decimals and the verifier", () => {
  it("parses and formats thousandths from the digits, refusing extra precision", () => {
    expect(parseThousandths(50.5)).toBe(50_500);
    expect(parseThousandths("40.300")).toBe(40_300);
    expect(parseThousandths(0.003)).toBe(3);
    expect(parseThousandths(1_234_567.891)).toBe(1_234_567_891);
    expect(parseThousandths(0.1 + 0.2)).toBeNull();
    expect(parseThousandths(1.0005)).toBeNull();
    expect(parseThousandths(null)).toBeNull();
    expect(formatThousandths(50_500)).toBe("50.5");
    expect(formatThousandths(3)).toBe("0.003");
    expect(formatThousandths(7000)).toBe("7");
  });

  it("sums integers of thousandths, so a million small readings add up exactly", () => {
    let float = 0;
    let thousandths = 0;
    for (let i = 0; i < 1_000_000; i++) {
      float += 0.117;
      thousandths += toThousandths(0.117);
    }
    expect(float).not.toBe(117_000);
    expect(thousandths).toBe(117_000_000);
    expect(parseThousandths(117_000)).toBe(thousandths);
  });

  it("reports exactly the fields that differ, down to 0.001 kWh", () => {
    const expected = { acThousandths: 10_117, dcThousandths: 9_001, dataPoints: 12 };
    expect(
      compareTotals("v", expected, { totalAcConsumption: 10.117, totalDcDelivery: 9.001, dataPoints: 12 }),
    ).toEqual([]);
    expect(
      compareTotals("v", expected, { totalAcConsumption: 10.118, totalDcDelivery: 9.001, dataPoints: 11 }),
    ).toEqual([
      { vehicleId: "v", field: "totalAcConsumption", expected: "10.117", actual: "10.118" },
      { vehicleId: "v", field: "dataPoints", expected: "12", actual: "11" },
    ]);
    // A float-summed total that drifted is a mismatch, not "close enough".
    expect(
      compareTotals("v", expected, { totalAcConsumption: 10.117 + 1e-12, totalDcDelivery: 9.001, dataPoints: 12 }),
    ).toHaveLength(1);
  });

  it("expects AC only from a linked meter, and only what was acknowledged", () => {
    const [reading] = collect({ size: 1, seed: "ledger", start: START, minutes: 1 }) as [FleetReading];
    const ledger = createLedger(1);
    ledger.noteSent(reading);
    ledger.recordMeter(reading);
    expect(ledger.expectedFor(0)).toEqual({ acThousandths: 0, dcThousandths: 0, dataPoints: 0 });
    ledger.recordLink(0);
    ledger.recordVehicle(reading);
    expect(ledger.expectedFor(0)).toEqual({
      acThousandths: toThousandths(reading.meter.kwhConsumedAc),
      dcThousandths: toThousandths(reading.vehicle.kwhDeliveredDc),
      dataPoints: 1,
    });
    expect(ledger.window()).toEqual({ from: START, to: new Date("2026-03-15T08:01:00Z") });
  });
});

describe("HTTP client", () => {
  const quickRetries = { maxAttempts: 3, budgetMs: 5000, attemptTimeoutMs: 5000, maxRetryAfterMs: 10 };

  it("retries a 503 after Retry-After and a network error, a bounded number of times", async () => {
    const answers = [
      () => new Response("{}", { status: 503, headers: { "retry-after": "0" } }),
      () => {
        throw new Error("connection reset");
      },
      () => new Response('{"status":"stored"}', { status: 201 }),
    ];
    const calls: string[] = [];
    const client = createHttpClient(
      "http://127.0.0.1:9/",
      (url) => {
        calls.push(url);
        return (answers[calls.length - 1] as () => Response)();
      },
      quickRetries,
    );
    const result = await client.request("POST", "/v1/telemetry/meter", {});
    expect(result).toEqual({ kind: "response", status: 201, body: { status: "stored" } });
    expect(calls).toEqual(Array(3).fill("http://127.0.0.1:9/v1/telemetry/meter"));
    expect(client.stats).toMatchObject({ sent: 3, succeeded: 1, retries: 2 });

    const down = createHttpClient("http://127.0.0.1:9", () => new Response("{}", { status: 503 }), quickRetries);
    expect(await down.request("GET", "/readyz")).toMatchObject({ kind: "response", status: 503 });
    expect(down.stats).toMatchObject({ sent: 3, serverErrors: 1 });
  });

  it("reads Retry-After as seconds or a date, capped", () => {
    expect(readRetryAfterMs("2", 10_000)).toBe(2000);
    expect(readRetryAfterMs("120", 10_000)).toBe(10_000);
    expect(readRetryAfterMs(null, 10_000)).toBe(1000);
    expect(readRetryAfterMs("soon", 10)).toBe(10);
    expect(readRetryAfterMs(new Date(5000).toUTCString(), 10_000, 2000)).toBe(3000);
  });
});

describe("command line", () => {
  it("parses modes and flags, and refuses what would be unbounded or malformed", () => {
    const parsed = parseCommandLine(["load", "100", "180", "--speedup", "60", "--batch", "500", "--seed", "s"]);
    expect(parsed).toMatchObject({
      kind: "run",
      options: { mode: "load", size: 100, seconds: 180, speedup: 60, batchSize: 500, seed: "s", concurrency: 64 },
    });
    expect(parseCommandLine(["single", "10"])).toMatchObject({ options: { url: "http://localhost:3000/" } });
    expect(parseCommandLine(["load", "10"]).kind).toBe("error");
    expect(parseCommandLine(["full", "0"]).kind).toBe("error");
    expect(parseCommandLine(["full", "5", "--url", "ftp://x"]).kind).toBe("error");
    expect(parseCommandLine(["full", "5", "--minutes", "600000"]).kind).toBe("error");
    expect(parseCommandLine(["full", "5", "--nope"]).kind).toBe("error");
  });
});

describe("a whole run against the app", () => {
  const appFetch = (url: string, init: RequestInit) => t.app.request(url, init);
  const options = (overrides: Partial<RunOptions>): RunOptions => ({
    mode: "full",
    size: 5,
    seconds: 0,
    minutes: 10,
    speedup: 1,
    url: "http://localhost:3000/",
    concurrency: 8,
    seed: `e2e-${Math.random()}`,
    ...overrides,
  });
  const deps = { fetch: appFetch, now: () => DEFAULT_NOW, progressOutput: null };

  it("single: sends, links afterwards, and every vehicle matches", async () => {
    const report = await runLoad(options({ mode: "single", size: 8 }), deps);
    expect(report.verification.mismatches).toEqual([]);
    expect(report.failures.count).toBe(0);
    expect(report.readingsSent).toBe(16);
    expect(report.isSuccess).toBe(true);
    // Default start: the run's last minute is the server's current minute.
    expect(report.window).toEqual({ from: new Date("2026-03-15T12:00:00Z"), to: new Date("2026-03-15T12:01:00Z") });
  });

  it("full with batches: matches, and a replay of the same run is all duplicates and still matches", async () => {
    const run = options({ batchSize: 7, start: new Date("2026-03-15T09:00:00Z") });
    const first = await runLoad(run, deps);
    expect(first.verification.mismatches).toEqual([]);
    expect(first.isSuccess).toBe(true);
    expect(first.readingsSent).toBe(100);
    const replay = await runLoad(run, deps);
    expect(replay.isSuccess).toBe(true);
  });

  it("counts only acknowledged readings, and catches a server that reports wrong totals", async () => {
    let isMeterRefused = false;
    const refusingFetch = (url: string, init: RequestInit) => {
      // One meter reading is refused for good: it must not count toward the expected AC.
      if (url.endsWith("/v1/telemetry/meter") && !isMeterRefused) {
        isMeterRefused = true;
        return new Response('{"error":{"code":"x","message":"refused"}}', { status: 400 });
      }
      return t.app.request(url, init);
    };
    const refused = await runLoad(options({ start: new Date("2026-03-14T09:00:00Z") }), {
      ...deps,
      fetch: refusingFetch,
    });
    expect(refused.verification.mismatches).toEqual([]);
    expect(refused.failures.count).toBe(1);
    expect(refused.isSuccess).toBe(false);

    const lyingFetch = async (url: string, init: RequestInit) => {
      const response = await t.app.request(url, init);
      if (!url.includes("/analytics/")) return response;
      const body = (await response.json()) as { totalDcDelivery: number };
      return Response.json({ ...body, totalDcDelivery: roundTo(body.totalDcDelivery + 0.001, 3) });
    };
    const lied = await runLoad(options({ size: 3, start: new Date("2026-03-13T09:00:00Z") }), {
      ...deps,
      fetch: lyingFetch,
    });
    expect(lied.verification.mismatches.map((mismatch) => mismatch.field)).toEqual(Array(3).fill("totalDcDelivery"));
    expect(lied.isSuccess).toBe(false);
  });
});
