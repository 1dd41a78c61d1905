// Vehicle-meter links (link, unlink, relink, list, bad ids), and 404 for the state of devices never seen.
import { describe, expect, it } from "bun:test";
import { useTestApp } from "./support/database.ts";
import { getJson, type JsonBody, newId, postJson } from "./support/http.ts";
import { expectDocumented } from "./support/openapi.ts";

const t = useTestApp();

describe("mappings", () => {
  it("links a meter to a vehicle, and linking again changes nothing", async () => {
    const pair = { vehicleId: newId(), meterId: newId() };
    const created = await postJson(t.app, "/v1/mappings", pair);
    await expectDocumented(created);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ ...pair, isActive: true });
    const again = await postJson(t.app, "/v1/mappings", pair);
    await expectDocumented(again);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(created.body);
  });

  it("deactivates a link with DELETE and re-activates it with POST", async () => {
    const pair = { vehicleId: newId(), meterId: newId() };
    await postJson(t.app, "/v1/mappings", pair);
    const removed = await t.app.request(`/v1/mappings/${pair.vehicleId}/${pair.meterId}`, { method: "DELETE" });
    expect(removed.status).toBe(200);
    const removedBody = (await removed.json()) as JsonBody;
    await expectDocumented(
      { status: removed.status, body: removedBody },
      "DELETE",
      `/v1/mappings/${pair.vehicleId}/${pair.meterId}`,
    );
    expect(removedBody).toMatchObject({ ...pair, isActive: false });
    const listed = await getJson(t.app, `/v1/mappings?vehicleId=${pair.vehicleId}`);
    await expectDocumented(listed);
    expect(listed.body.mappings).toEqual([expect.objectContaining({ ...pair, isActive: false })]);
    const relinked = await postJson(t.app, "/v1/mappings", pair);
    await expectDocumented(relinked);
    expect(relinked.status).toBe(201);
    expect(relinked.body.isActive).toBe(true);
  });

  it("answers 404 when deleting a link that never existed", async () => {
    const response = await t.app.request(`/v1/mappings/${newId()}/${newId()}`, { method: "DELETE" });
    expect(response.status).toBe(404);
    expect(((await response.json()) as JsonBody).error.code).toBe("not_found");
  });

  it("lists a vehicle's meters, and a meter's vehicles", async () => {
    const vehicleId = newId();
    const meters = [newId(), newId()].sort();
    for (const meterId of meters) await postJson(t.app, "/v1/mappings", { vehicleId, meterId });
    const byVehicle = await getJson(t.app, `/v1/mappings?vehicleId=${vehicleId}`);
    await expectDocumented(byVehicle);
    expect(byVehicle.status).toBe(200);
    expect(byVehicle.body.mappings.map((m: { meterId: string }) => m.meterId)).toEqual(meters);
    const byMeter = await getJson(t.app, `/v1/mappings?meterId=${meters[0]}`);
    await expectDocumented(byMeter);
    expect(byMeter.body.mappings).toEqual([expect.objectContaining({ vehicleId, meterId: meters[0] })]);
  });

  it("refuses a link with a bad id, naming the field", async () => {
    const response = await postJson(t.app, "/v1/mappings", { vehicleId: newId(), meterId: "m-1" });
    await expectDocumented(response);
    expect(response.status).toBe(400);
    expect(response.body.error.details).toEqual([{ field: "meterId", message: "must be a UUID" }]);
    const badQuery = await getJson(t.app, "/v1/mappings?vehicleId=nope");
    await expectDocumented(badQuery);
    expect(badQuery.status).toBe(400);
  });
});

describe("hot state reads", () => {
  it("answers 404 for devices that never reported", async () => {
    const vehicle = await getJson(t.app, `/v1/vehicles/${newId()}/state`);
    await expectDocumented(vehicle);
    expect(vehicle.status).toBe(404);
    expect(vehicle.body.error.code).toBe("not_found");
    const meter = await getJson(t.app, `/v1/meters/${newId()}/state`);
    await expectDocumented(meter);
    expect(meter.status).toBe(404);
  });
});
