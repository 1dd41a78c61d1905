// GET /v1/search: vehicles and meters found by a whole id, the start of one, or any part of a name, bounded.
import { describe, expect, it } from "bun:test";
import { idRange } from "../src/devices/search.ts";
import { useTestApp } from "./support/database.ts";
import { getJson, meterReading, newId, postJson, putJson, vehicleReading } from "./support/http.ts";
import { expectDocumented } from "./support/openapi.ts";

const t = useTestApp();

/** Ids sharing a prefix no random id of the other tests has: 1234abcd-… */
const withPrefix = (prefix: string) => `${prefix}${newId().slice(prefix.length)}`;

async function search(q: string, limit?: number) {
  const query = new URLSearchParams({ q, ...(limit ? { limit: String(limit) } : {}) });
  const response = await getJson(t.app, `/v1/search?${query}`);
  await expectDocumented(response);
  return response;
}

describe("GET /v1/search", () => {
  it("finds a vehicle by its whole id, in any case, first among what it finds", async () => {
    const vehicleId = newId();
    expect((await postJson(t.app, "/v1/telemetry/vehicle", vehicleReading({ vehicleId }))).status).toBe(201);
    const found = await search(vehicleId.toUpperCase());
    expect(found.status).toBe(200);
    expect(found.body.results[0]).toEqual({ kind: "vehicle", id: vehicleId, name: null });
  });

  it("finds vehicles and meters by the start of an id, hyphens optional: reported, linked or named", async () => {
    const reported = withPrefix("1234abcd-1");
    const linkedOnly = withPrefix("1234abcd-2");
    const meter = withPrefix("1234abcd-3");
    const namedOnly = withPrefix("1234abcd-4");
    expect((await postJson(t.app, "/v1/telemetry/vehicle", vehicleReading({ vehicleId: reported }))).status).toBe(201);
    expect((await postJson(t.app, "/v1/telemetry/meter", meterReading({ meterId: meter }))).status).toBe(201);
    expect((await postJson(t.app, "/v1/mappings", { vehicleId: linkedOnly, meterId: meter })).status).toBe(201);
    expect((await putJson(t.app, `/v1/vehicles/${namedOnly}/profile`, { name: "Spare van" })).status).toBe(201);
    const elsewhere = newId().replace(/^./, "9");
    expect((await postJson(t.app, "/v1/telemetry/vehicle", vehicleReading({ vehicleId: elsewhere }))).status).toBe(201);

    for (const q of ["1234abcd", "1234ABCD-", "1234abcd"]) {
      const found = await search(q);
      expect(found.status).toBe(200);
      expect(found.body.results).toEqual([
        { kind: "vehicle", id: namedOnly, name: "Spare van" },
        { kind: "vehicle", id: reported, name: null },
        { kind: "vehicle", id: linkedOnly, name: null },
        { kind: "meter", id: meter, name: null },
      ]);
    }
    const narrower = await search("1234abcd1");
    expect(narrower.body.results.map((result: { id: string }) => result.id)).toEqual([reported]);
  });

  it("finds by any part of a name, whatever the case, and treats % and _ as themselves", async () => {
    const [van, bay, other] = [newId(), newId(), newId()];
    await putJson(t.app, `/v1/vehicles/${van}/profile`, { name: "Depot North VAN 100%" });
    await putJson(t.app, `/v1/meters/${bay}/profile`, { name: "depot north bay_2" });
    await putJson(t.app, `/v1/vehicles/${other}/profile`, { name: "Depot South van" });
    const found = await search("north");
    expect(found.body.results).toEqual([
      { kind: "vehicle", id: van, name: "Depot North VAN 100%" },
      { kind: "meter", id: bay, name: "depot north bay_2" },
    ]);
    expect((await search("100%")).body.results.map((result: { id: string }) => result.id)).toEqual([van]);
    expect((await search("y_2")).body.results.map((result: { id: string }) => result.id)).toEqual([bay]);
    expect((await search("y%2")).body.results).toEqual([]);
    expect((await search("no such name anywhere")).body.results).toEqual([]);
  });

  it("answers at most `limit` results", async () => {
    for (let i = 0; i < 6; i++) await putJson(t.app, `/v1/vehicles/${newId()}/profile`, { name: `Bounded ${i}` });
    expect((await search("bounded", 4)).body.results).toHaveLength(4);
    expect((await search("bounded")).body.results).toHaveLength(6);
  });

  it("refuses a missing, empty, too long query or a bad limit, naming the field", async () => {
    const cases: [string, string][] = [
      ["", "q"],
      ["q=", "q"],
      ["q=%20%20", "q"],
      [`q=${"x".repeat(101)}`, "q"],
      ["q=van&limit=0", "limit"],
      ["q=van&limit=51", "limit"],
      ["q=van&limit=two", "limit"],
    ];
    for (const [query, field] of cases) {
      const response = await getJson(t.app, `/v1/search?${query}`);
      await expectDocumented(response);
      expect(response.status).toBe(400);
      expect(response.body.error.details.map((detail: { field: string }) => detail.field)).toEqual([field]);
    }
  });
});

describe("idRange", () => {
  it("spans every id starting with the text, and refuses what cannot start an id", () => {
    expect(idRange("1234ABCD-1")).toEqual({
      low: "1234abcd-1000-0000-0000-000000000000",
      high: "1234abcd-1fff-ffff-ffff-ffffffffffff",
    });
    const whole = "660e8400-e29b-41d4-a716-446655440000";
    expect(idRange(whole)).toEqual({ low: whole, high: whole });
    for (const text of ["van", "", "-", `${whole}0`, "12 34"]) expect(idRange(text)).toBeUndefined();
  });
});
