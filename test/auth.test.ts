// Access: the master key, scoped keys, revocation, rate limits, CORS and the keys CLI.
import { describe, expect, it } from "bun:test";
import { createApp } from "../src/app.ts";
import { TokenBuckets } from "../src/auth/rate-limit.ts";
import { ConfigError, loadConfig } from "../src/config.ts";
import { KeyStore } from "../src/keys/store.ts";
import { DEFAULT_NOW, useTestApp } from "./support/database.ts";
import { meterReading, newId, vehicleReading } from "./support/http.ts";
import { expectDocumented } from "./support/openapi.ts";

const MASTER = "master-key-for-tests-0123456789";
const t = useTestApp();

function securedApp(extra: Parameters<typeof createApp>[0] extends infer D ? Partial<D> : never = {}) {
  const keys = new KeyStore(t.database.db, t.database.sql, MASTER);
  const app = createApp({
    sql: t.database.sql,
    db: t.database.db,
    writer: t.writer,
    keys,
    now: () => DEFAULT_NOW,
    ...extra,
  });
  const call = async (method: string, path: string, key?: string, body?: unknown, env?: object) => {
    const headers: Record<string, string> = {};
    if (key) headers.authorization = `Bearer ${key}`;
    if (body !== undefined) headers["content-type"] = "application/json";
    const response = await app.request(
      path,
      { method, headers, body: body === undefined ? undefined : JSON.stringify(body) },
      env,
    );
    const text = await response.text();
    const answer = {
      status: response.status,
      headers: response.headers,
      body: text.startsWith("{") ? JSON.parse(text) : text,
    };
    // Preflights are CORS's business, not the API's.
    if (method !== "OPTIONS") await expectDocumented(answer, method, path);
    return answer;
  };
  const createKey = async (scopes: string[]) => {
    const response = await call("POST", "/v1/keys", MASTER, { name: `key for ${scopes.join("+")}`, scopes });
    expect(response.status).toBe(201);
    return response.body as { id: string; key: string };
  };
  return { app, keys, call, createKey };
}

describe("API keys", () => {
  it("refuses /v1 without a key, with an unknown key or a malformed header: 401", async () => {
    const { call } = securedApp();
    for (const key of [undefined, "nope", `fk_0123456789abcdef_${"x".repeat(43)}`]) {
      const response = await call("GET", `/v1/vehicles/${newId()}/state`, key);
      expect(response.status).toBe(401);
      expect(response.body.error.code).toBe("unauthorized");
      expect(response.headers.get("www-authenticate")).toContain("Bearer");
    }
  });

  it("leaves /healthz, /readyz and /metrics open", async () => {
    const { call } = securedApp();
    expect((await call("GET", "/healthz")).status).toBe(200);
    expect((await call("GET", "/readyz")).status).toBe(200);
  });

  it("lets the master key do everything", async () => {
    const { call } = securedApp();
    expect((await call("POST", "/v1/telemetry/meter", MASTER, meterReading())).status).toBe(201);
    expect((await call("POST", "/v1/mappings", MASTER, { vehicleId: newId(), meterId: newId() })).status).toBe(201);
    expect((await call("GET", "/v1/keys", MASTER)).status).toBe(200);
  });

  it("creates a key shown once, lists keys without secrets, and stores only a hash", async () => {
    const { call, createKey } = securedApp();
    const created = await createKey(["read"]);
    expect(created.key).toMatch(/^fk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    const listed = await call("GET", "/v1/keys", MASTER);
    const entry = listed.body.keys.find((k: { id: string }) => k.id === created.id);
    expect(entry).toEqual({
      id: created.id,
      name: "key for read",
      scopes: ["read"],
      createdAt: expect.any(String),
      revokedAt: null,
    });
    // fk_<16 hex>_<secret>: the secret itself may contain "_".
    const secret = created.key.slice(`fk_${created.id}_`.length);
    expect(secret).toHaveLength(43);
    const [row] = await t.database.sql`select secret_hash from api_keys where id = ${created.id}`;
    expect(row?.secret_hash).toHaveLength(64);
    expect(JSON.stringify(row)).not.toContain(secret);
  });

  it("gives each scope exactly its routes: 403 beyond them", async () => {
    const { call, createKey } = securedApp();
    const ingest = (await createKey(["ingest"])).key;
    const read = (await createKey(["read"])).key;
    const vehicleId = newId();
    expect((await call("POST", "/v1/telemetry/vehicle", ingest, vehicleReading({ vehicleId }))).status).toBe(201);
    expect((await call("POST", "/v1/telemetry/batch", ingest, { meters: [meterReading()] })).status).toBe(201);
    for (const path of [`/v1/analytics/performance/${vehicleId}`, `/v1/vehicles/${vehicleId}/state`, "/v1/mappings"]) {
      const refused = await call("GET", path, ingest);
      expect(refused.status).toBe(403);
      expect(refused.body.error.code).toBe("forbidden");
      expect((await call("GET", path, read)).status).toBe(200);
    }
    expect((await call("POST", "/v1/telemetry/meter", read, meterReading())).status).toBe(403);
    expect((await call("POST", "/v1/mappings", read, { vehicleId, meterId: newId() })).status).toBe(403);
    expect((await call("POST", "/v1/mappings", ingest, { vehicleId, meterId: newId() })).status).toBe(403);
    expect((await call("GET", "/v1/keys", read)).status).toBe(403);
    expect((await call("POST", "/v1/keys", ingest, { name: "x", scopes: ["admin"] })).status).toBe(403);
    expect((await call("GET", "/v1/admin/stats", read)).status).toBe(403);
  });

  it("revokes a key at once", async () => {
    const { call, createKey } = securedApp();
    const { id, key } = await createKey(["ingest"]);
    expect((await call("POST", "/v1/telemetry/meter", key, meterReading())).status).toBe(201);
    expect((await call("DELETE", `/v1/keys/${id}`, MASTER)).status).toBe(200);
    const after = await call("POST", "/v1/telemetry/meter", key, meterReading());
    expect(after.status).toBe(401);
    expect((await call("DELETE", "/v1/keys/0000000000000000", MASTER)).status).toBe(404);
  });

  it("validates new keys: name and known scopes", async () => {
    const { call } = securedApp();
    const response = await call("POST", "/v1/keys", MASTER, { name: "", scopes: ["write"] });
    expect(response.status).toBe(400);
    expect(response.body.error.details.map((d: { field: string }) => d.field).sort()).toEqual(["name", "scopes[0]"]);
  });

  it("refuses to start in production without a master key, naming it", () => {
    expect(() => loadConfig({ NODE_ENV: "production" })).toThrow(ConfigError);
    expect(() => loadConfig({ NODE_ENV: "production" })).toThrow(/API_MASTER_KEY/);
    expect(loadConfig({ NODE_ENV: "production", API_MASTER_KEY: MASTER }).API_MASTER_KEY).toBe(MASTER);
  });
});

describe("rate limits", () => {
  it("refills a token bucket at its rate, up to its burst", () => {
    let now = 0;
    const buckets = new TokenBuckets(2, 3, () => now);
    expect([buckets.take("a"), buckets.take("a"), buckets.take("a")]).toEqual([0, 0, 0]);
    expect(buckets.take("a")).toBeCloseTo(0.5);
    expect(buckets.take("b")).toBe(0); // buckets are per key
    now += 500;
    expect(buckets.take("a")).toBe(0);
    now += 60_000;
    expect([buckets.take("a"), buckets.take("a"), buckets.take("a"), buckets.take("a") > 0]).toEqual([0, 0, 0, true]);
  });

  it("answers 429 with Retry-After per key, counting a batch as one request", async () => {
    const { call, createKey } = securedApp({ rateLimits: new TokenBuckets(0.5, 2) });
    const key = (await createKey(["ingest"])).key;
    const batch = { meters: Array.from({ length: 50 }, () => meterReading()) };
    expect((await call("POST", "/v1/telemetry/batch", key, batch)).status).toBe(201);
    expect((await call("POST", "/v1/telemetry/meter", key, meterReading())).status).toBe(201);
    const limited = await call("POST", "/v1/telemetry/meter", key, meterReading());
    expect(limited.status).toBe(429);
    expect(limited.body.error.code).toBe("rate_limited");
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect((await call("POST", "/v1/telemetry/meter", MASTER, meterReading())).status).toBe(201);
  });

  it("limits per client address when the service runs open", async () => {
    const app = createApp({
      sql: t.database.sql,
      db: t.database.db,
      writer: t.writer,
      now: () => DEFAULT_NOW,
      rateLimits: new TokenBuckets(0.1, 1),
    });
    const get = (address: string) => app.request("/v1/mappings", {}, { clientAddress: address });
    expect((await get("10.0.0.1")).status).toBe(200);
    expect((await get("10.0.0.1")).status).toBe(429);
    expect((await get("10.0.0.2")).status).toBe(200);
  });
});

describe("CORS", () => {
  it("allows only the configured origins, and none by default", async () => {
    const preflight = {
      method: "OPTIONS",
      headers: { origin: "https://dash.example.com", "access-control-request-method": "GET" },
    };
    const { app } = securedApp({ corsOrigins: ["https://dash.example.com"] });
    const allowed = await app.request("/v1/mappings", preflight);
    expect(allowed.headers.get("access-control-allow-origin")).toBe("https://dash.example.com");
    const other = await app.request("/v1/mappings", {
      ...preflight,
      headers: { ...preflight.headers, origin: "https://evil.example" },
    });
    expect(other.headers.get("access-control-allow-origin")).toBeNull();
    const closed = await securedApp().app.request("/v1/mappings", preflight);
    expect(closed.headers.get("access-control-allow-origin")).toBeNull();
  });
});

describe("bun run keys", () => {
  it("creates, lists and revokes keys from the command line", async () => {
    const cli = new URL("../src/cli/keys.ts", import.meta.url).pathname;
    const run = async (...args: string[]) => {
      const child = Bun.spawn(["bun", cli, ...args], {
        env: { PATH: process.env.PATH ?? "", DATABASE_URL: t.database.url },
        stdout: "pipe",
        stderr: "pipe",
      });
      const code = await child.exited;
      return { code, out: await new Response(child.stdout).text(), err: await new Response(child.stderr).text() };
    };
    const created = await run("create", "--name", "gateway 7", "--scopes", "ingest,read");
    expect(created.code).toBe(0);
    const key = JSON.parse(created.out);
    expect(key).toMatchObject({ name: "gateway 7", scopes: ["ingest", "read"] });
    const { call } = securedApp();
    expect((await call("POST", "/v1/telemetry/meter", key.key, meterReading())).status).toBe(201);
    const listed = await run("list");
    expect(JSON.parse(listed.out).map((k: { id: string }) => k.id)).toContain(key.id);
    expect(listed.out).not.toContain(key.key);
    expect((await run("revoke", key.id)).code).toBe(0);
    expect((await run("revoke", "ffffffffffffffff")).code).toBe(1);
    expect((await run("create", "--name", "x", "--scopes", "root")).code).toBe(2);
  }, 30_000);
});
