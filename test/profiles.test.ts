// Names for vehicles and meters: set, read, refused when bad, kept to the admin scope, and shown beside the
// id in every answer that lists one (state, performance, series, fleet, links).
import { describe, expect, it } from "bun:test";
import { createApp } from "../src/app.ts";
import { KeyStore } from "../src/keys/store.ts";
import { DEFAULT_NOW, useTestApp } from "./support/database.ts";
import { getJson, meterReading, newId, postJson, putJson, vehicleReading } from "./support/http.ts";
import { expectDocumented } from "./support/openapi.ts";

const t = useTestApp();
const MASTER = "master-key-for-profile-tests-0123";

describe("PUT and GET /v1/vehicles/:vehicleId/profile and /v1/meters/:meterId/profile", () => {
  it("names a vehicle (201), renames it (200), and answers the stored profile, trimmed", async () => {
    const vehicleId = newId();
    const created = await putJson(t.app, `/v1/vehicles/${vehicleId}/profile`, { name: "  Van 042 " });
    await expectDocumented(created);
    expect(created.status).toBe(201);
    expect(created.body).toEqual({ vehicleId, name: "Van 042", updatedAt: expect.any(String) });

    const renamed = await putJson(t.app, `/v1/vehicles/${vehicleId.toUpperCase()}/profile`, { name: "Van 43" });
    await expectDocumented(renamed);
    expect(renamed.status).toBe(200);
    expect(renamed.body.name).toBe("Van 43");

    const read = await getJson(t.app, `/v1/vehicles/${vehicleId}/profile`);
    await expectDocumented(read);
    expect(read.status).toBe(200);
    expect(read.body).toEqual(renamed.body);
    const [row] = await t.database.sql`select count(*)::int as n from device_profiles where device_id = ${vehicleId}`;
    expect(row?.n).toBe(1);
  });

  it("keeps a meter's name apart from a vehicle's with the same id", async () => {
    const id = newId();
    expect((await putJson(t.app, `/v1/meters/${id}/profile`, { name: "Bay 7" })).status).toBe(201);
    const meter = await getJson(t.app, `/v1/meters/${id}/profile`);
    await expectDocumented(meter);
    expect(meter.body).toEqual({ meterId: id, name: "Bay 7", updatedAt: expect.any(String) });
    const vehicle = await getJson(t.app, `/v1/vehicles/${id}/profile`);
    await expectDocumented(vehicle);
    expect(vehicle.status).toBe(404);
    expect(vehicle.body.error.code).toBe("not_found");
  });

  it("refuses an empty, blank, too long, non-string or control-character name, writing nothing", async () => {
    const vehicleId = newId();
    const bad: [unknown, string][] = [
      [{ name: "" }, "must not be empty"],
      [{ name: "   " }, "must not be empty"],
      [{ name: "x".repeat(101) }, "must be at most 100 characters"],
      [{ name: 42 }, "must be a string"],
      [{}, "is required"],
      [{ name: "a\nb" }, "must not contain control characters"],
    ];
    for (const [body, message] of bad) {
      const response = await putJson(t.app, `/v1/vehicles/${vehicleId}/profile`, body);
      await expectDocumented(response);
      expect(response.status).toBe(400);
      expect(response.body.error.details).toEqual([{ field: "name", message }]);
    }
    expect((await putJson(t.app, `/v1/vehicles/${vehicleId}/profile`, { name: "x".repeat(100) })).status).toBe(201);
    const badId = await putJson(t.app, "/v1/vehicles/VAN-042/profile", { name: "Van" });
    await expectDocumented(badId);
    expect(badId.status).toBe(400);
    expect(badId.body.error.details).toEqual([{ field: "vehicleId", message: "must be a UUID" }]);
    const notJson = await t.app.request(`/v1/meters/${newId()}/profile`, { method: "PUT", body: "name=x" });
    expect(notJson.status).toBe(415);
    const [row] = await t.database.sql`select count(*)::int as n from device_profiles where device_id = ${vehicleId}`;
    expect(row?.n).toBe(1);
  });

  it("lets only admin keys name devices; read keys read names", async () => {
    const keys = new KeyStore(t.database.db, t.database.sql, MASTER);
    const app = createApp({ sql: t.database.sql, db: t.database.db, writer: t.writer, keys, now: () => DEFAULT_NOW });
    const created = await keys.create("reader", ["read"]);
    const call = (method: string, path: string, key: string, body?: unknown) =>
      app.request(path, {
        method,
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    const path = `/v1/vehicles/${newId()}/profile`;
    const refused = await call("PUT", path, created.key, { name: "Van" });
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toContain("'admin'");
    expect((await call("PUT", path, MASTER, { name: "Van" })).status).toBe(201);
    expect((await call("GET", path, created.key)).status).toBe(200);
    expect((await call("GET", `/v1/search?q=Van`, created.key)).status).toBe(200);
    const ingest = await keys.create("gateway", ["ingest"]);
    expect((await call("GET", path, ingest.key)).status).toBe(403);
  });
});

describe("names beside ids", () => {
  it("shows a vehicle's and a meter's name in state, performance, series, fleet and links; null when unnamed", async () => {
    const [vehicleId, meterId, unnamed] = [newId(), newId(), newId()];
    expect((await postJson(t.app, "/v1/mappings", { vehicleId, meterId })).status).toBe(201);
    const at = "2026-03-15T11:00:00Z";
    const batch = {
      meters: [meterReading({ meterId, kwhConsumedAc: 2, timestamp: at })],
      vehicles: [
        vehicleReading({ vehicleId, kwhDeliveredDc: 3, timestamp: at }), // above AC: needs attention
        vehicleReading({ vehicleId: unnamed, timestamp: at }),
      ],
    };
    expect((await postJson(t.app, "/v1/telemetry/batch", batch)).status).toBe(201);
    await putJson(t.app, `/v1/vehicles/${vehicleId}/profile`, { name: "Van 042" });
    await putJson(t.app, `/v1/meters/${meterId}/profile`, { name: "Bay 7" });

    const answers = [
      await getJson(t.app, `/v1/vehicles/${vehicleId}/state`),
      await getJson(t.app, `/v1/analytics/performance/${vehicleId}`),
      await getJson(t.app, `/v1/analytics/vehicles/${vehicleId}/series`),
    ];
    for (const answer of answers) {
      await expectDocumented(answer);
      expect(answer.status).toBe(200);
      expect(answer.body.name).toBe("Van 042");
    }
    const meter = await getJson(t.app, `/v1/meters/${meterId}/state`);
    await expectDocumented(meter);
    expect(meter.body.name).toBe("Bay 7");
    expect((await getJson(t.app, `/v1/vehicles/${unnamed}/state`)).body.name).toBeNull();

    const fleet = await getJson(t.app, "/v1/analytics/fleet?from=2026-03-15T00:00:00Z&to=2026-03-15T12:00:00Z");
    await expectDocumented(fleet);
    const listed = [...fleet.body.needsAttention.vehicles, ...fleet.body.leastEfficient, ...fleet.body.mostEfficient];
    const byId = new Map(
      listed.map((vehicle: { vehicleId: string; name: string | null }) => [vehicle.vehicleId, vehicle]),
    );
    expect(byId.get(vehicleId)?.name).toBe("Van 042");
    expect(byId.get(unnamed)?.name).toBeNull();

    const links = await getJson(t.app, `/v1/mappings?vehicleId=${vehicleId}`);
    await expectDocumented(links);
    expect(links.body.mappings).toEqual([
      expect.objectContaining({ vehicleId, vehicleName: "Van 042", meterId, meterName: "Bay 7" }),
    ]);
  });
});
