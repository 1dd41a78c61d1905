// /openapi.json and /docs: valid OpenAPI 3.1, naming exactly the routes the app serves, open like /healthz.
import { describe, expect, it } from "bun:test";
import { Validator } from "@seriousme/openapi-schema-validator";
import type { OpenAPIV3_1 } from "openapi-types";
import { createApp } from "../src/app.ts";
import { KeyStore } from "../src/keys/store.ts";
import { createMetrics } from "../src/observability/metrics.ts";
import { useTestApp } from "./support/database.ts";
import { getJson, newId } from "./support/http.ts";
import { apiDocument, documentedPath, expectDocumented } from "./support/openapi.ts";

const MASTER = "master-key-for-openapi-tests-0123";
const t = useTestApp();

/** Routes for people, not programs: the reference page and the dashboard. */
const PAGES = new Set(["GET /docs", "GET /", "GET /dashboard/{file}"]);

function keyedApp() {
  return createApp({
    sql: t.database.sql,
    db: t.database.db,
    writer: t.writer,
    keys: new KeyStore(t.database.db, t.database.sql, MASTER),
    metrics: createMetrics({ sql: t.database.sql, poolSize: 1 }),
    dashboard: { html: "<!doctype html>", files: {} },
  });
}

const NOT_SERVED = /^no route for /;
const concrete = (template: string) =>
  template.replace(/[:{](\w+)\}?/g, (_, name: string) => (name === "id" ? "0123456789abcdef" : newId()));

/** Whether the app has a handler for the request, as opposed to middleware alone: asks it. */
async function isServed(app: ReturnType<typeof keyedApp>, method: string, path: string): Promise<boolean> {
  const response = await app.request(concrete(path), {
    method,
    headers: { authorization: `Bearer ${MASTER}` },
  });
  if (response.status !== 404) return true;
  const body = (await response.json()) as { error: { message: string } };
  return !NOT_SERVED.test(body.error.message);
}

describe("GET /openapi.json", () => {
  it("is valid OpenAPI 3.1", async () => {
    const document = await apiDocument();
    expect(document.openapi).toBe("3.1.0");
    const result = await new Validator().validate(document as unknown as Record<string, unknown>);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it("is open with keys required, and describes bearer auth and the one error shape", async () => {
    const response = await keyedApp().request("/openapi.json");
    expect(response.status).toBe(200);
    const document = (await response.json()) as OpenAPIV3_1.Document;
    expect(document.components?.securitySchemes?.bearerAuth).toMatchObject({ type: "http", scheme: "bearer" });
    expect(document.components?.schemas?.Error).toMatchObject({ required: ["error"] });
    const fleet = document.paths?.["/v1/analytics/fleet"]?.get;
    expect(fleet?.security).toEqual([{ bearerAuth: [] }]);
    expect(Object.keys(fleet?.responses ?? {})).toEqual(["200", "400", "401", "403", "500", "503"]);
  });

  it("leaves out keys and their answers when the service runs open", async () => {
    const document = (await getJson(t.app, "/openapi.json")).body as OpenAPIV3_1.Document;
    expect(document.components?.securitySchemes).toBeUndefined();
    expect(document.paths?.["/v1/keys"]).toBeUndefined();
    expect(Object.keys(document.paths?.["/v1/telemetry/vehicle"]?.post?.responses ?? {})).toEqual([
      "200",
      "201",
      "400",
      "413",
      "415",
      "500",
      "503",
    ]);
  });

  it("documents the NDJSON upload next to the JSON batch, and path and query parameters", async () => {
    const document = await apiDocument();
    const batch = document.paths?.["/v1/telemetry/batch"]?.post?.requestBody as OpenAPIV3_1.RequestBodyObject;
    expect(Object.keys(batch.content)).toEqual(["application/json", "application/x-ndjson"]);
    expect(document.components?.schemas?.TelemetryLine).toBeDefined();
    const series = document.paths?.["/v1/analytics/vehicles/{vehicleId}/series"]?.get;
    const parameters = (series?.parameters ?? []) as OpenAPIV3_1.ParameterObject[];
    expect(parameters.map((parameter) => `${parameter.in} ${parameter.name}`).sort()).toEqual([
      "path vehicleId",
      "query bucket",
      "query format",
      "query from",
      "query to",
    ]);
  });

  it("names every route the app serves, and only those", async () => {
    const app = keyedApp();
    const document = (await (await app.request("/openapi.json")).json()) as OpenAPIV3_1.Document;
    const documented = new Set<string>();
    for (const [path, item] of Object.entries(document.paths ?? {})) {
      for (const method of Object.keys(item ?? {})) documented.add(`${method.toUpperCase()} ${path}`);
    }
    // Hono lists middleware as routes too (ALL, wildcards, the scope checks): ask the app
    // which of the rest it really answers.
    const served = new Set<string>();
    for (const route of app.routes) {
      if (route.method === "ALL" || route.path.includes("*")) continue;
      const key = `${route.method} ${route.path.replace(/:(\w+)/g, "{$1}")}`;
      if (served.has(key) || PAGES.has(key)) continue;
      if (await isServed(app, route.method, route.path)) served.add(key);
    }
    expect([...served].sort()).toEqual([...documented].sort());
    for (const operation of documented) {
      const [method, path] = operation.split(" ") as [string, string];
      expect(await isServed(app, method, path), `${operation} is documented but not served`).toBe(true);
    }
  });

  it("holds answers to their documented schemas (the shared check itself)", async () => {
    const document = await apiDocument();
    expect(documentedPath(document, `/v1/vehicles/${newId()}/state`)).toBe("/v1/vehicles/{vehicleId}/state");
    const wrong = { status: 200, body: { status: "maybe" }, request: { method: "POST", path: "/v1/telemetry/meter" } };
    expect(expectDocumented(wrong)).rejects.toThrow();
    const undocumented = { status: 418, body: {}, request: { method: "GET", path: "/healthz" } };
    expect(expectDocumented(undocumented)).rejects.toThrow();
    await expectDocumented(await getJson(t.app, "/healthz"));
  });
});

describe("GET /docs", () => {
  it("serves the API reference page, pointed at /openapi.json, without a key", async () => {
    const response = await keyedApp().request("/docs");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toStartWith("text/html");
    expect(await response.text()).toContain("/openapi.json");
  });
});
