// Answers are compressed when the client accepts it and worth it: the reference script, /openapi.json,
// dashboard files, /metrics, large JSON; never small answers, HEAD, NDJSON, or a client that did not ask.
import { beforeAll, describe, expect, it } from "bun:test";
import { gunzipSync, inflateSync } from "node:zlib";
import { createApp } from "../src/app.ts";
import { createMetrics } from "../src/observability/metrics.ts";
import { loadReferenceScript } from "../src/openapi/reference-script.ts";
import { useTestApp } from "./support/database.ts";
import { meterReading, vehicleReading } from "./support/http.ts";

const t = useTestApp();
const SCRIPT = { path: "/docs/scalar-0.0.0.js", body: `/* reference */ ${"console.log('page');\n".repeat(5000)}` };
const DASHBOARD_JS = `/* dashboard */ ${"render();\n".repeat(3000)}`;
let app: ReturnType<typeof createApp>;

beforeAll(() => {
  app = createApp({
    sql: t.database.sql,
    db: t.database.db,
    writer: t.writer,
    now: () => new Date(),
    referenceScript: SCRIPT,
    metrics: createMetrics({ sql: t.database.sql, poolSize: 2 }),
    dashboard: {
      html: "<!doctype html><title>fleet</title>",
      files: { "app.0123.js": { body: DASHBOARD_JS, contentType: "text/javascript; charset=utf-8" } },
    },
  });
});

const get = (path: string, encoding?: string, method = "GET") =>
  app.request(path, { method, headers: encoding ? { "accept-encoding": encoding } : {} });

async function gunzipped(response: Response): Promise<string> {
  return gunzipSync(Buffer.from(await response.arrayBuffer())).toString("utf8");
}

describe("compression", () => {
  it("gzips /openapi.json for a client that accepts gzip, and sends it plain to one that does not", async () => {
    const plain = await get("/openapi.json");
    expect(plain.status).toBe(200);
    expect(plain.headers.get("content-encoding")).toBeNull();
    const document = await plain.json();

    const zipped = await get("/openapi.json", "gzip, deflate, br");
    expect(zipped.status).toBe(200);
    expect(zipped.headers.get("content-encoding")).toBe("gzip");
    expect(zipped.headers.get("vary")).toContain("Accept-Encoding");
    expect(zipped.headers.get("content-type")).toStartWith("application/json");
    expect(JSON.parse(await gunzipped(zipped))).toEqual(document);

    const identity = await get("/openapi.json", "identity");
    expect(identity.headers.get("content-encoding")).toBeNull();
    expect(await identity.json()).toEqual(document);
  });

  it("deflates for a client that accepts only deflate", async () => {
    const response = await get("/openapi.json", "deflate");
    expect(response.headers.get("content-encoding")).toBe("deflate");
    expect(JSON.parse(inflateSync(Buffer.from(await response.arrayBuffer())).toString("utf8"))).toHaveProperty(
      "openapi",
    );
  });

  it("gzips the reference page's script, the dashboard's files and /metrics", async () => {
    for (const [path, expected] of [
      [SCRIPT.path, SCRIPT.body],
      ["/dashboard/app.0123.js", DASHBOARD_JS],
    ] as const) {
      const response = await get(path, "gzip");
      expect(response.status).toBe(200);
      expect(response.headers.get("content-encoding")).toBe("gzip");
      expect(response.headers.get("cache-control")).toContain("immutable");
      expect(await gunzipped(response)).toBe(expected);
    }
    const metrics = await get("/metrics", "gzip");
    expect(metrics.headers.get("content-encoding")).toBe("gzip");
    expect(await gunzipped(metrics)).toContain("fleet_readings_total");
  });

  it("serves the installed reference script gzipped ahead of time, and plain to a client that refuses gzip", async () => {
    const script = await loadReferenceScript();
    await script.compressed;
    expect(script.gzipped).toBeDefined();
    const withScript = createApp({ sql: t.database.sql, db: t.database.db, writer: t.writer, referenceScript: script });
    const zipped = await withScript.request(script.path, { headers: { "accept-encoding": "br, gzip;q=0.8" } });
    expect(zipped.headers.get("content-encoding")).toBe("gzip");
    const bytes = new Uint8Array(await zipped.arrayBuffer());
    expect(Buffer.from(bytes).equals(Buffer.from(script.gzipped as Uint8Array))).toBe(true); // the copy made once
    expect(gunzipSync(bytes).toString("utf8")).toBe(script.body);
    const refused = await withScript.request(script.path, { headers: { "accept-encoding": "gzip;q=0, identity" } });
    expect(refused.headers.get("content-encoding")).toBeNull();
    expect((await refused.text()).length).toBe(script.body.length);
  });

  it("leaves small JSON answers, errors and NDJSON uploads' answers uncompressed", async () => {
    const stored = await app.request("/v1/telemetry/meter", {
      method: "POST",
      headers: { "content-type": "application/json", "accept-encoding": "gzip" },
      body: JSON.stringify(meterReading()),
    });
    expect(stored.status).toBe(201);
    expect(stored.headers.get("content-encoding")).toBeNull();
    expect(await stored.json()).toEqual({ status: "stored" });

    const lines = [
      { type: "vehicle", ...vehicleReading() },
      { type: "meter", ...meterReading() },
    ];
    const uploaded = await app.request("/v1/telemetry/batch", {
      method: "POST",
      headers: { "content-type": "application/x-ndjson", "accept-encoding": "gzip" },
      body: `${lines.map((line) => JSON.stringify(line)).join("\n")}\n`,
    });
    expect(uploaded.status).toBe(201);
    expect(uploaded.headers.get("content-encoding")).toBeNull();
    expect(await uploaded.json()).toEqual({ status: "stored", stored: 2, duplicates: 0 });

    const missing = await get("/v1/vehicles/00000000-0000-4000-8000-000000000000/state", "gzip");
    expect(missing.status).toBe(404);
    expect(missing.headers.get("content-encoding")).toBeNull();
    expect((await missing.json()).error.code).toBe("not_found");
  });

  it("answers HEAD without a body or an encoding", async () => {
    for (const path of ["/openapi.json", SCRIPT.path]) {
      const response = await get(path, "gzip", "HEAD");
      expect(response.status).toBe(200);
      expect(response.headers.get("content-encoding")).toBeNull();
      expect(await response.text()).toBe("");
    }
  });
});
