// The fleet's vehicles and a vehicle's series as CSV: asked by ?format=csv or Accept: text/csv, a header row,
// an attachment, streamed, and the very figures of the JSON answers (compared cell by cell).
import { describe, expect, it } from "bun:test";
import { useTestApp } from "./support/database.ts";
import { getJson, newId, postJson, putJson } from "./support/http.ts";
import { expectDocumented } from "./support/openapi.ts";

const t = useTestApp({ thresholds: { minCoverage: 0.5 } });

const WINDOW = "from=2026-03-14T00:00:00Z&to=2026-03-15T12:00:00Z";
const vehicles = Array.from({ length: 7 }, () => ({ vehicleId: newId(), meterId: newId() }));
const unmetered = newId();

/** Figures with decimals that a careless CSV writer would round or reformat. */
async function seed() {
  for (const pair of vehicles.slice(0, 6)) expect((await postJson(t.app, "/v1/mappings", pair)).status).toBe(201);
  const meters = [];
  const readings = [];
  for (const [index, pair] of vehicles.entries()) {
    for (const hour of ["2026-03-14T08", "2026-03-14T20", "2026-03-15T09"]) {
      const timestamp = `${hour}:${String(10 + index).padStart(2, "0")}:00Z`;
      meters.push({ meterId: pair.meterId, kwhConsumedAc: 3.333 + index, voltage: 230, timestamp });
      const dc = index === 0 ? 5.125 : 2.917 + index * 0.901; // the first vehicle: DC above AC
      readings.push({ vehicleId: pair.vehicleId, soc: 40 + index, kwhDeliveredDc: dc, batteryTemp: 21.5, timestamp });
    }
  }
  readings.push({
    vehicleId: unmetered,
    soc: 12,
    kwhDeliveredDc: 1.001,
    batteryTemp: 61.25,
    timestamp: "2026-03-15T10:00:00Z",
  });
  expect((await postJson(t.app, "/v1/telemetry/batch", { meters, vehicles: readings })).status).toBe(201);
  // A name a spreadsheet would run as a formula, with a comma and a quote.
  await putJson(t.app, `/v1/vehicles/${vehicles[1]?.vehicleId}/profile`, { name: '=Van, "the 2nd"' });
}

/** RFC 4180, enough for these files: quoted cells with doubled quotes, CRLF lines. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  for (const line of text.split("\r\n").slice(0, -1)) {
    const cells: string[] = [];
    for (const match of line.matchAll(/("(?:[^"]|"")*"|[^,]*)(,|$)/g)) {
      const raw = match[1] as string;
      cells.push(raw.startsWith('"') ? raw.slice(1, -1).replaceAll('""', '"') : raw);
      if (match[2] === "") break;
    }
    rows.push(cells);
  }
  return rows;
}

const cell = (value: number | null) => (value === null ? "" : String(value));

async function csv(path: string, init?: RequestInit) {
  const response = await t.app.request(path, init);
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toStartWith("text/csv");
  expect(response.body).toBeInstanceOf(ReadableStream);
  return { response, rows: parseCsv(await response.text()) };
}

describe("CSV export", () => {
  it("writes every vehicle of the fleet with the figures of the JSON, by ?format=csv or Accept", async () => {
    await seed();
    const json = await getJson(t.app, `/v1/analytics/fleet?${WINDOW}&limit=500`);
    await expectDocumented(json);
    expect(json.status).toBe(200);
    const { response, rows } = await csv(`/v1/analytics/fleet?${WINDOW}&format=csv`);
    expect(response.headers.get("content-disposition")).toBe(
      'attachment; filename="fleet_20260314T0000Z_20260315T1200Z.csv"',
    );
    const [header, ...body] = rows;
    expect(header).toEqual([
      "vehicle_id",
      "name",
      "ac_kwh",
      "dc_kwh",
      "efficiency_ratio",
      "data_points",
      "coverage",
      "max_battery_temp_c",
      "quality_flags",
    ]);
    expect(body).toHaveLength(json.body.totals.vehicles);
    expect(body.map((row) => row[0])).toEqual([...vehicles.map((v) => v.vehicleId), unmetered].sort());

    // Each vehicle the JSON lists has the same figures in the file.
    const byId = new Map(body.map((row) => [row[0], row]));
    const listed = [...json.body.needsAttention.vehicles, ...json.body.leastEfficient, ...json.body.mostEfficient];
    expect(listed.length).toBeGreaterThanOrEqual(8);
    for (const vehicle of listed) {
      expect(byId.get(vehicle.vehicleId)).toEqual([
        vehicle.vehicleId,
        vehicle.name === null ? "" : vehicle.name.replace(/^=/, "'="),
        cell(vehicle.totalAcConsumption),
        cell(vehicle.totalDcDelivery),
        cell(vehicle.efficiencyRatio),
        cell(vehicle.dataPoints),
        cell(vehicle.coverage),
        cell(vehicle.maxBatteryTemp),
        vehicle.quality.map((flag: { code: string }) => flag.code).join(" "),
      ]);
    }
    expect(byId.get(vehicles[1]?.vehicleId)?.[1]).toBe(`'=Van, "the 2nd"`);
    const lone = byId.get(unmetered) ?? [];
    expect([lone[4], lone[5], lone[7]]).toEqual(["", "1", "61.25"]);
    expect(lone[8]?.split(" ")).toEqual(expect.arrayContaining(["dc_without_meter", "battery_overheat"]));
    // Every reading of the window is in the file once.
    expect(body.reduce((total, row) => total + Number(row[5]), 0)).toBe(json.body.totals.dataPoints);

    const accepted = await csv(`/v1/analytics/fleet?${WINDOW}`, { headers: { accept: "text/csv" } });
    expect(accepted.rows).toEqual(rows);
    // The answer depends on Accept (and, once compressed, on Accept-Encoding too).
    expect(accepted.response.headers.get("vary")?.split(/\s*,\s*/)).toContain("Accept");
    // ?format wins over Accept, both ways.
    const asJson = await t.app.request(`/v1/analytics/fleet?${WINDOW}&format=json`, {
      headers: { accept: "text/csv" },
    });
    expect(asJson.headers.get("content-type")).toStartWith("application/json");
  });

  it("writes a vehicle's series bucket by bucket, the JSON's points cell by cell", async () => {
    const vehicleId = vehicles[2]?.vehicleId as string;
    for (const bucket of ["hour", "day"]) {
      const query = `bucket=${bucket}&${WINDOW}`;
      const json = await getJson(t.app, `/v1/analytics/vehicles/${vehicleId}/series?${query}`);
      await expectDocumented(json);
      expect(json.status).toBe(200);
      const { response, rows } = await csv(`/v1/analytics/vehicles/${vehicleId}/series?${query}`, {
        headers: { accept: "text/csv" },
      });
      expect(response.headers.get("content-disposition")).toBe(
        `attachment; filename="vehicle_${vehicleId}_${bucket}_20260314T0000Z_${bucket === "hour" ? "20260315T1200Z" : "20260316T0000Z"}.csv"`,
      );
      const [header, ...body] = rows;
      expect(header).toEqual([
        "start",
        "ac_kwh",
        "dc_kwh",
        "efficiency_ratio",
        "avg_battery_temp_c",
        "max_battery_temp_c",
        "soc_min",
        "soc_max",
        "data_points",
      ]);
      expect(body).toEqual(
        json.body.points.map((point: Record<string, number | null>) => [
          point.start,
          cell(point.totalAcConsumption as number),
          cell(point.totalDcDelivery as number),
          cell(point.efficiencyRatio as number | null),
          cell(point.avgBatteryTemp as number | null),
          cell(point.maxBatteryTemp as number | null),
          cell(point.socMin as number | null),
          cell(point.socMax as number | null),
          cell(point.dataPoints as number),
        ]),
      );
      expect(body).toHaveLength(json.body.points.length);
      expect(body.length).toBeGreaterThanOrEqual(2);
      expect(body.some((row) => row[2] !== "0")).toBe(true);
    }
  });

  it("refuses a bad format and answers an unknown vehicle's CSV with the JSON error", async () => {
    const bad = await getJson(t.app, `/v1/analytics/fleet?format=xlsx`);
    await expectDocumented(bad);
    expect(bad.status).toBe(400);
    expect(bad.body.error.details).toEqual([{ field: "format", message: "must be json or csv" }]);
    const unknown = await getJson(t.app, `/v1/analytics/vehicles/${newId()}/series?format=csv`);
    await expectDocumented(unknown);
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe("not_found");
  });

  it("streams a large fleet in chunks, every vehicle once", async () => {
    const many = Array.from({ length: 1200 }, () => ({
      vehicleId: newId(),
      soc: 50,
      kwhDeliveredDc: 0.5,
      batteryTemp: 20,
      timestamp: "2026-03-15T06:00:00Z",
    }));
    expect((await postJson(t.app, "/v1/telemetry/batch", { vehicles: many })).status).toBe(201);
    const response = await t.app.request(`/v1/analytics/fleet?${WINDOW}&format=csv`);
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    let chunks = 0;
    let text = "";
    const decoder = new TextDecoder();
    for (let read = await reader.read(); !read.done; read = await reader.read()) {
      chunks++;
      text += decoder.decode(read.value, { stream: true });
    }
    expect(chunks).toBeGreaterThan(2);
    const ids = parseCsv(text)
      .slice(1)
      .map((row) => row[0]);
    expect(new Set(ids).size).toBe(ids.length);
    for (const reading of many) expect(ids).toContain(reading.vehicleId);
  });
});
