// HTTP at its edges: names Object.prototype holds, HEAD, framing, and compressed bodies.
import { afterAll, describe, expect, it } from "bun:test";
import { gzipSync } from "bun";
import type { DashboardAssets } from "../src/dashboard/routes.ts";
import { useTestApp } from "./support/database.ts";
import { meterReading, newId, postJson, vehicleReading } from "./support/http.ts";

const dashboard: DashboardAssets = {
  html: '<!doctype html><script type="module" src="/dashboard/app.0123.js"></script>',
  files: { "app.0123.js": { body: "console.log('fleet')", contentType: "text/javascript; charset=utf-8" } },
};
const t = useTestApp({ dashboard });

async function storedRowCount() {
  const [row] = await t.database.sql<{ count: number }[]>`
    select (select count(*) from meter_telemetry)::int + (select count(*) from vehicle_telemetry)::int
      + (select count(*) from vehicle_meter_mapping)::int as count
  `;
  return row?.count ?? -1;
}

describe("names Object.prototype holds", () => {
  const names = Object.getOwnPropertyNames(Object.prototype);

  it("answers 404 for each as a dashboard file, and still serves the real ones", async () => {
    expect(names).toContain("constructor");
    expect(names).toContain("__proto__");
    for (const name of names) {
      const response = await t.app.request(`/dashboard/${name}`);
      expect({ name, status: response.status }).toEqual({ name, status: 404 });
      expect((await response.json()).error.code).toBe("not_found");
    }
    expect((await t.app.request("/dashboard/app.0123.js")).status).toBe(200);
  });

  it("answers 404 for each as a route", async () => {
    for (const name of names) {
      expect((await t.app.request(`/${name}`)).status).toBe(404);
      expect((await t.app.request(`/v1/${name}`)).status).toBe(404);
    }
  });
});

describe("HEAD", () => {
  it("answers like GET without the body: same status, type and length", async () => {
    const vehicleId = newId();
    expect((await postJson(t.app, "/v1/telemetry/vehicle", vehicleReading({ vehicleId }))).status).toBe(201);
    const paths = [
      "/",
      "/docs",
      "/openapi.json",
      "/healthz",
      `/v1/vehicles/${vehicleId}/state`,
      `/v1/meters/${newId()}/state`,
    ];
    for (const path of paths) {
      const get = await t.app.request(path);
      const body = new Uint8Array(await get.arrayBuffer());
      expect(body.byteLength).toBeGreaterThan(0);
      const head = await t.app.request(path, { method: "HEAD" });
      expect({ path, status: head.status }).toEqual({ path, status: get.status });
      expect(head.headers.get("content-type")).toBe(get.headers.get("content-type"));
      expect({ path, length: head.headers.get("content-length") }).toEqual({ path, length: String(body.byteLength) });
      expect((await head.arrayBuffer()).byteLength).toBe(0);
    }
  });

  describe("over a real socket", () => {
    const server = Bun.serve({ port: 0, fetch: (request) => t.app.fetch(request) });
    afterAll(() => server.stop(true));

    it("sends the GET body's length for / and /docs", async () => {
      for (const path of ["/", "/docs", "/healthz"]) {
        const get = await fetch(new URL(path, server.url));
        const length = (await get.arrayBuffer()).byteLength;
        const head = await fetch(new URL(path, server.url), { method: "HEAD" });
        expect(head.status).toBe(200);
        expect({ path, length: head.headers.get("content-length") }).toEqual({ path, length: String(length) });
      }
    });
  });
});

describe("framing", () => {
  it("forbids other sites to frame /docs and the dashboard", async () => {
    for (const path of ["/docs", "/"]) {
      const response = await t.app.request(path);
      expect(response.status).toBe(200);
      expect(response.headers.get("x-frame-options")).toBe("DENY");
      expect(response.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
    }
  });
});

describe("Content-Encoding", () => {
  const send = (path: string, body: BodyInit, headers: Record<string, string>) =>
    t.app.request(path, { method: "POST", headers: { "content-type": "application/json", ...headers }, body });

  it("refuses a compressed body with 415 naming the header, writing nothing", async () => {
    const before = await storedRowCount();
    const cases: [string, string, Record<string, string>][] = [
      ["/v1/telemetry/meter", JSON.stringify(meterReading()), {}],
      ["/v1/telemetry/vehicle", JSON.stringify(vehicleReading()), {}],
      ["/v1/telemetry/batch", JSON.stringify({ meters: [meterReading()] }), {}],
      ["/v1/telemetry/batch", JSON.stringify(meterReading()), { "content-type": "application/x-ndjson" }],
      ["/v1/mappings", JSON.stringify({ vehicleId: newId(), meterId: newId() }), {}],
    ];
    for (const [path, text, headers] of cases) {
      for (const encoding of ["gzip", "deflate", "br", "identity, gzip"]) {
        const response = await send(path, new Blob([gzipSync(text)]), { ...headers, "content-encoding": encoding });
        expect({ path, encoding, status: response.status }).toEqual({ path, encoding, status: 415 });
        const { error } = await response.json();
        expect(error.code).toBe("unsupported_encoding");
        expect(error.message).toContain("Content-Encoding");
      }
    }
    expect(await storedRowCount()).toBe(before);
  });

  it("accepts identity, which is no encoding at all", async () => {
    const response = await send("/v1/telemetry/meter", JSON.stringify(meterReading()), {
      "content-encoding": "identity",
    });
    expect(response.status).toBe(201);
  });
});
