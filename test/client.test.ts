// The typed client: hc<AppType> from hono/client knows every /v1 route's parameters, body and answer.
// They come from the app's own type, so a client written against it fails to compile when the API changes
// under it. Driven here through app.request, no server needed.
import { describe, expect, it } from "bun:test";
import { hc } from "hono/client";
import type { AppType } from "../src/app.ts";
import { useTestApp } from "./support/database.ts";
import { newId, vehicleReading } from "./support/http.ts";
import { expectDocumented } from "./support/openapi.ts";

const t = useTestApp();
const client = () =>
  hc<AppType>("http://fleet.test", {
    fetch: (input: Request | string | URL, init?: RequestInit) => t.app.request(input, init),
  });

// Compiled, never run: the compiler refuses what the API would refuse.
function _typeChecks() {
  const api = client();
  const timestamp = "2026-03-15T11:00:00Z";
  const vehicleId = newId();
  const reading = { vehicleId, soc: "50", kwhDeliveredDc: 1, batteryTemp: 20, timestamp };
  // @ts-expect-error soc is a number
  void api.v1.telemetry.vehicle.$post({ json: reading });
  const series = api.v1.analytics.vehicles[":vehicleId"].series;
  // @ts-expect-error bucket is hour or day
  void series.$get({ param: { vehicleId }, query: { bucket: "week" } });
}
void _typeChecks;

describe("hc<AppType>", () => {
  it("ingests a reading, reads the vehicle's state and its analytics, all typed", async () => {
    const api = client();
    const reading = vehicleReading({ soc: 64.5, kwhDeliveredDc: 2.5, batteryTemp: 31 });

    const stored = await api.v1.telemetry.vehicle.$post({ json: reading });
    expect(stored.status).toBe(201);
    const storedBody = await stored.json();
    await expectDocumented({ status: stored.status, body: storedBody }, "POST", "/v1/telemetry/vehicle");
    if ("status" in storedBody) expect(storedBody.status).toBe("stored");

    const state = await api.v1.vehicles[":vehicleId"].state.$get({ param: { vehicleId: reading.vehicleId } });
    expect(state.status).toBe(200);
    if (state.status === 200) {
      const body = await state.json();
      expect({ soc: body.soc, batteryTemp: body.batteryTemp, lastUpdated: body.lastUpdated }).toEqual({
        soc: 64.5,
        batteryTemp: 31,
        lastUpdated: "2026-03-15T11:00:00.000Z",
      });
    }

    const series = await api.v1.analytics.vehicles[":vehicleId"].series.$get({
      param: { vehicleId: reading.vehicleId },
      query: { bucket: "hour", from: "2026-03-15T10:00:00Z", to: "2026-03-15T12:00:00Z" },
    });
    expect(series.status).toBe(200);
    const seriesBody = await series.json();
    await expectDocumented(
      { status: series.status, body: seriesBody },
      "GET",
      `/v1/analytics/vehicles/${reading.vehicleId}/series`,
    );
    if ("points" in seriesBody) {
      expect(seriesBody.points.map((point) => [point.start, point.totalDcDelivery, point.socMax])).toEqual([
        ["2026-03-15T10:00:00.000Z", 0, null],
        ["2026-03-15T11:00:00.000Z", 2.5, 64.5],
      ]);
    }

    const performance = await api.v1.analytics.performance[":vehicleId"].$get({
      param: { vehicleId: reading.vehicleId },
      query: { from: "2026-03-15T00:00:00Z", to: "2026-03-15T12:00:00Z" },
    });
    const performanceBody = await performance.json();
    if ("dataPoints" in performanceBody) expect(performanceBody.dataPoints).toBe(1);

    const fleet = await api.v1.analytics.fleet.$get({ query: { limit: "10", offset: "0" } });
    expect(fleet.status).toBe(200);
    const fleetBody = await fleet.json();
    if ("totals" in fleetBody) expect(fleetBody.totals.vehicles).toBeGreaterThanOrEqual(1);
  });

  it("gets the error shape back, typed, for a vehicle never seen", async () => {
    const response = await client().v1.vehicles[":vehicleId"].state.$get({ param: { vehicleId: newId() } });
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ error: { code: "not_found" } });
  });
});
