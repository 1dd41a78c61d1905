// An unreachable database: a quick 503 with Retry-After, never a 500, a hang or a false 2xx.
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { createApp } from "../src/app.ts";
import { createDb, createSql, type Sql } from "../src/db/client.ts";
import { Partitions } from "../src/partitions/partitions.ts";
import { createDirectWriter } from "../src/telemetry/writer.ts";
import { getJson, meterReading, newId, postJson } from "./support/http.ts";
import { freePort } from "./support/server.ts";

let sql: Sql;
let app: ReturnType<typeof createApp>;
const unexpected: unknown[] = [];

beforeAll(async () => {
  // Nothing listens on this port.
  sql = createSql({
    url: `postgres://nobody@127.0.0.1:${await freePort()}/none`,
    poolSize: 2,
    connectTimeoutSeconds: 2,
  });
  app = createApp({
    sql,
    db: createDb(sql),
    writer: createDirectWriter(sql, new Partitions(sql)),
    now: () => new Date("2026-03-15T12:00:00Z"),
    onUnexpectedError: (error) => unexpected.push(error),
  });
});
afterAll(async () => {
  await sql.end({ timeout: 1 });
});

describe("when the database is down", () => {
  it("answers writes and reads with 503 and Retry-After", async () => {
    const started = Date.now();
    const responses = [
      await postJson(app, "/v1/telemetry/meter", meterReading()),
      await postJson(app, "/v1/telemetry/batch", { meters: [meterReading()] }),
      await getJson(app, `/v1/vehicles/${newId()}/state`),
      await getJson(app, `/v1/analytics/performance/${newId()}`),
      await postJson(app, "/v1/mappings", { vehicleId: newId(), meterId: newId() }),
    ];
    for (const response of responses) {
      expect(response.status).toBe(503);
      expect(response.headers.get("retry-after")).toBe("5");
      expect(response.body.error.code).toBe("database_unavailable");
    }
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(unexpected).toEqual([]);
  });

  it("is alive but not ready", async () => {
    expect((await getJson(app, "/healthz")).status).toBe(200);
    const ready = await getJson(app, "/readyz");
    expect(ready.status).toBe(503);
    expect(ready.body.error.code).toBe("database_unavailable");
  });

  it("still validates input first: bad input is a 400 even now", async () => {
    const response = await postJson(app, "/v1/telemetry/meter", meterReading({ voltage: "high" }));
    expect(response.status).toBe(400);
  });
});
