// Bad input refused with 4xx: each bad field named, malformed bodies, content types, size and nesting, bad ids.
import { describe, expect, it } from "bun:test";
import { useTestApp } from "./support/database.ts";
import { type JsonBody, meterReading, postJson, vehicleReading } from "./support/http.ts";
import { expectDocumented } from "./support/openapi.ts";

const t = useTestApp({ limits: { maxBatchBytes: 64 * 1024 } });

async function storedRowCount() {
  const [row] = await t.database.sql<{ count: number }[]>`
    select (select count(*) from meter_telemetry)::int + (select count(*) from vehicle_telemetry)::int
      + (select count(*) from meter_state)::int + (select count(*) from vehicle_state)::int as count
  `;
  return row?.count ?? -1;
}

const meterCases: [string, Record<string, unknown>, string, string][] = [
  ["a missing meterId", { meterId: undefined }, "meterId", "is required"],
  ["a meterId that is not a UUID", { meterId: "meter-1" }, "meterId", "must be a UUID"],
  ["a numeric meterId", { meterId: 42 }, "meterId", "must be a UUID string"],
  ["negative energy", { kwhConsumedAc: -0.001 }, "kwhConsumedAc", "must be at least 0"],
  ["energy too large for numeric(10,3)", { kwhConsumedAc: 10_000_000 }, "kwhConsumedAc", "must be at most 9999999.999"],
  ["energy with 4 decimals", { kwhConsumedAc: 1.2345 }, "kwhConsumedAc", "must have at most 3 decimal places"],
  ["energy too small to store (5e-324)", { kwhConsumedAc: 5e-324 }, "kwhConsumedAc", "must have at most 3 decimal"],
  ["energy too small to store (1e-320)", { kwhConsumedAc: 1e-320 }, "kwhConsumedAc", "must have at most 3 decimal"],
  ["energy that rounds to 0 (0.0004)", { kwhConsumedAc: 0.0004 }, "kwhConsumedAc", "must have at most 3 decimal"],
  ["energy a billionth off (1.000000001)", { kwhConsumedAc: 1.000000001 }, "kwhConsumedAc", "must have at most 3"],
  ["voltage too small to store (1e-300)", { voltage: 1e-300 }, "voltage", "must have at most 2 decimal places"],
  ["energy as a string", { kwhConsumedAc: "1.5" }, "kwhConsumedAc", "must be a number"],
  ["voltage too large for numeric(6,2)", { voltage: 10_000 }, "voltage", "must be at most 9999.99"],
  ["voltage with 3 decimals", { voltage: 230.001 }, "voltage", "must have at most 2 decimal places"],
  ["a timestamp with no zone", { timestamp: "2026-03-15T11:00:00" }, "timestamp", "must be an ISO-8601"],
  ["an impossible date", { timestamp: "2026-02-30T11:00:00Z" }, "timestamp", "must be an ISO-8601"],
  ["a timestamp that is a number", { timestamp: 1773572400000 }, "timestamp", "must be an ISO-8601"],
  ["a timestamp from an unset clock", { timestamp: "1970-01-01T00:00:00Z" }, "timestamp", "must not be before"],
];

describe("validation of single readings", () => {
  for (const [name, change, field, message] of meterCases) {
    it(`refuses a meter reading with ${name}, naming the field, and writes nothing`, async () => {
      const before = await storedRowCount();
      const response = await postJson(t.app, "/v1/telemetry/meter", meterReading(change));
      await expectDocumented(response);
      expect(response.status).toBe(400);
      expect(response.body.error.code).toBe("validation_failed");
      expect(response.body.error.details).toContainEqual({ field, message: expect.stringContaining(message) });
      expect(await storedRowCount()).toBe(before);
    });
  }

  const vehicleCases: [string, Record<string, unknown>, string, string][] = [
    ["soc above 100", { soc: 100.01 }, "soc", "must be at most 100"],
    ["soc below 0", { soc: -1 }, "soc", "must be at least 0"],
    ["negative DC energy", { kwhDeliveredDc: -1 }, "kwhDeliveredDc", "must be at least 0"],
    ["a battery temperature beyond numeric(5,2)", { batteryTemp: 1000 }, "batteryTemp", "must be at most 999.99"],
    ["a soc too small to store (5e-324)", { soc: 5e-324 }, "soc", "must have at most 2 decimal places"],
    ["a battery temperature that rounds to 0", { batteryTemp: -1e-9 }, "batteryTemp", "must have at most 2 decimal"],
    ["a missing vehicleId", { vehicleId: undefined }, "vehicleId", "is required"],
  ];
  for (const [name, change, field, message] of vehicleCases) {
    it(`refuses a vehicle reading with ${name}`, async () => {
      const response = await postJson(t.app, "/v1/telemetry/vehicle", vehicleReading(change));
      await expectDocumented(response);
      expect(response.status).toBe(400);
      expect(response.body.error.details).toContainEqual({ field, message: expect.stringContaining(message) });
    });
  }

  it("accepts floating-point noise that still has 3 decimals", async () => {
    const response = await postJson(t.app, "/v1/telemetry/meter", meterReading({ kwhConsumedAc: 0.1 + 0.2 }));
    await expectDocumented(response);
    expect(response.status).toBe(201);
  });

  it("accepts 0 and the largest values, which the columns hold exactly", async () => {
    const zero = meterReading({ kwhConsumedAc: 0, voltage: 0 });
    expect((await postJson(t.app, "/v1/telemetry/meter", zero)).status).toBe(201);
    const largest = meterReading({ kwhConsumedAc: 9_999_999.999, voltage: 9_999.99 });
    expect((await postJson(t.app, "/v1/telemetry/meter", largest)).status).toBe(201);
    const [row] = await t.database.sql`
      select kwh_consumed_ac::text as kwh from meter_telemetry where meter_id = ${zero.meterId as string}
    `;
    expect(row?.kwh).toBe("0.000");
  });

  it("refuses a tiny value in a batch by index and field, writing nothing", async () => {
    const before = await storedRowCount();
    const body = { meters: [meterReading(), meterReading({ kwhConsumedAc: 5e-324 })] };
    const response = await postJson(t.app, "/v1/telemetry/batch", body);
    expect(response.status).toBe(400);
    expect(response.body.error.details).toContainEqual({
      field: "meters[1].kwhConsumedAc",
      message: "must have at most 3 decimal places",
    });
    expect(await storedRowCount()).toBe(before);
  });

  it("refuses a body that is JSON but not an object", async () => {
    for (const body of ["[]", "null", '"reading"', "42"]) {
      const response = await postJson(t.app, "/v1/telemetry/meter", body);
      await expectDocumented(response);
      expect(response.status).toBe(400);
      expect(response.body.error.code).toBe("validation_failed");
    }
  });
});

describe("malformed requests", () => {
  it("answers 400 malformed_json to a body that is not JSON", async () => {
    const response = await postJson(t.app, "/v1/telemetry/meter", '{"meterId": ');
    await expectDocumented(response);
    expect(response.status).toBe(400);
    expect(response.body).toEqual({ error: { code: "malformed_json", message: "request body is not valid JSON" } });
  });

  it("answers 415 to a body that is not declared as JSON", async () => {
    const response = await t.app.request("/v1/telemetry/meter", {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: JSON.stringify(meterReading()),
    });
    expect(response.status).toBe(415);
    expect(((await response.json()) as JsonBody).error.code).toBe("unsupported_media_type");
  });

  it("answers 415 when no content type is given", async () => {
    const response = await t.app.request("/v1/telemetry/vehicle", { method: "POST", body: "{}" });
    expect(response.status).toBe(415);
  });

  it("accepts a JSON content type with a charset", async () => {
    const response = await t.app.request("/v1/telemetry/meter", {
      method: "POST",
      headers: { "content-type": "application/json; charset=utf-8" },
      body: JSON.stringify(meterReading()),
    });
    expect(response.status).toBe(201);
  });

  it("answers 413 to a body over the limit, declared or streamed", async () => {
    const huge = JSON.stringify({ ...meterReading(), padding: "x".repeat(100 * 1024) });
    const declared = await postJson(t.app, "/v1/telemetry/meter", huge);
    await expectDocumented(declared);
    expect(declared.status).toBe(413);
    expect(declared.body.error.code).toBe("payload_too_large");
    const stream = new Blob([huge]).stream();
    const streamed = await t.app.request("/v1/telemetry/batch", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: stream,
      duplex: "half",
    } as RequestInit);
    expect(streamed.status).toBe(413);
  });

  it("answers 400 to deeply nested JSON", async () => {
    const nested = `${"[".repeat(30_000)}${"]".repeat(30_000)}`;
    const response = await t.app.request("/v1/telemetry/batch", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: nested,
    });
    expect(response.status).toBe(400);
  });

  it("answers 404 in the error shape for an unknown route or method", async () => {
    for (const [method, path] of [
      ["GET", "/v1/nothing"],
      ["GET", "/v1/telemetry/meter"],
      ["PUT", "/v1/mappings"],
    ] as const) {
      const response = await t.app.request(path, { method });
      expect(response.status).toBe(404);
      expect(((await response.json()) as JsonBody).error.code).toBe("not_found");
    }
  });

  it("answers 400 to a device id in a path that is not a UUID", async () => {
    const response = await t.app.request("/v1/vehicles/not-a-uuid/state");
    expect(response.status).toBe(400);
    expect(((await response.json()) as JsonBody).error.details).toEqual([
      { field: "vehicleId", message: "must be a UUID" },
    ]);
  });

  it("answers 400 to an instant PostgreSQL could not read, in a window or a link", async () => {
    const vehicle = "00000000-0000-4000-8000-000000000001";
    for (const path of [
      "/v1/analytics/fleet?to=0000-01-01T00:00:00Z",
      `/v1/analytics/performance/${vehicle}?to=0001-01-01T00:00:00Z`,
      `/v1/analytics/vehicles/${vehicle}/series?bucket=day&to=9999-12-31T00:00:00Z`,
      `/v1/mappings/${vehicle}/${vehicle}?unlinkedAt=9999-12-31T00:00:00Z`,
    ]) {
      const response = await t.app.request(path, { method: path.startsWith("/v1/mappings") ? "DELETE" : "GET" });
      expect(response.status).toBe(400);
      const body = (await response.json()) as JsonBody;
      expect(body.error.details[0].message).toBe("must be from 1970-01-01 up to (not including) 9000-01-01");
    }
    const link = await postJson(t.app, "/v1/mappings", {
      vehicleId: vehicle,
      meterId: vehicle,
      linkedAt: "0000-01-01T00:00:00Z",
    });
    expect(link.status).toBe(400);
    expect(link.body.error.details[0].field).toBe("linkedAt");
  });
});
