// Refusals cost nothing: 401s and 403s limited per client address, unknown key ids looked up
// at most once and never evicting valid keys, and refusal logs aggregated per reason.
import { afterAll, describe, expect, it } from "bun:test";
import { randomBytes } from "node:crypto";
import pino from "pino";
import postgres from "postgres";
import { createApp } from "../src/app.ts";
import { TokenBuckets } from "../src/auth/rate-limit.ts";
import { RefusalLimiter } from "../src/auth/refusals.ts";
import { createDb } from "../src/db/client.ts";
import { limitKey } from "../src/http/client-address.ts";
import { LogSampler } from "../src/http/log-sampler.ts";
import { KeyStore } from "../src/keys/store.ts";
import { DEFAULT_NOW, useTestApp } from "./support/database.ts";
import { newId } from "./support/http.ts";
import { expectDocumented } from "./support/openapi.ts";

const MASTER = "master-key-for-refusal-tests-0123";
const t = useTestApp();

// The key store's own pool, counting the statements that read api_keys: a lookup each.
let lookups = 0;
const clients: postgres.Sql[] = [];
afterAll(async () => {
  for (const client of clients) await client.end({ timeout: 5 });
});

const unknownToken = () => `fk_${randomBytes(8).toString("hex")}_${"x".repeat(43)}`;

interface RefusalAppOptions {
  burst?: number;
  perSecond?: number;
  maxUnknown?: number;
  maxFirstLookups?: number;
  header?: string;
}

function refusalApp(options: RefusalAppOptions = {}) {
  let clock = 0;
  const sql = postgres(t.database.url, {
    max: 2,
    onnotice: () => {},
    debug: (_connection, query) => {
      if (/from "api_keys"/.test(query)) lookups += 1;
    },
  });
  clients.push(sql);
  const keys = new KeyStore(createDb(sql), sql, MASTER, {
    now: () => clock,
    maxUnknown: options.maxUnknown,
    maxFirstLookups: options.maxFirstLookups,
  });
  const refusals = new RefusalLimiter(new TokenBuckets(options.perSecond ?? 1, options.burst ?? 3, () => clock));
  const app = createApp({
    sql: t.database.sql,
    db: t.database.db,
    writer: t.writer,
    keys,
    refusalLimits: refusals,
    clientAddressHeader: options.header,
    now: () => DEFAULT_NOW,
  });
  const call = async (path: string, key: string | undefined, address: string, headers: Record<string, string> = {}) => {
    const response = await app.request(
      path,
      { headers: key ? { authorization: `Bearer ${key}`, ...headers } : headers },
      { clientAddress: address },
    );
    const answer = { status: response.status, headers: response.headers, body: await response.json() };
    await expectDocumented(answer, "GET", path);
    return answer;
  };
  const createKey = async (scopes: string[]) => {
    const created = await keys.create(`key for ${scopes.join("+")}`, scopes as ["read"]);
    return created.key;
  };
  return { app, keys, call, createKey, advance: (ms: number) => (clock += ms) };
}

const statePath = () => `/v1/vehicles/${newId()}/state`;

describe("refused requests, per client address", () => {
  it("answers 429 with Retry-After in the error shape once an address has spent its refusals", async () => {
    const { call, advance } = refusalApp({ burst: 3, perSecond: 0.5 });
    for (const key of [undefined, "nope", unknownToken()])
      expect((await call(statePath(), key, "10.0.0.1")).status).toBe(401);
    const limited = await call(statePath(), "nope", "10.0.0.1");
    expect(limited.status).toBe(429);
    expect(limited.body.error.code).toBe("rate_limited");
    expect(limited.body.error.message).toContain("unauthorized");
    expect(limited.headers.get("retry-after")).toBe("2");
    expect((await call(statePath(), "nope", "10.0.0.2")).status).toBe(401);
    advance(2_000);
    expect((await call(statePath(), "nope", "10.0.0.1")).status).toBe(401);
    expect((await call(statePath(), "nope", "10.0.0.1")).status).toBe(429);
  });

  it("counts 403s as refusals too", async () => {
    const { call, createKey } = refusalApp({ burst: 2 });
    const ingest = await createKey(["ingest"]);
    expect((await call(statePath(), ingest, "10.0.1.1")).status).toBe(403);
    expect((await call(statePath(), ingest, "10.0.1.1")).status).toBe(403);
    const limited = await call(statePath(), ingest, "10.0.1.1");
    expect(limited.status).toBe(429);
    expect(limited.body.error.message).toContain("forbidden");
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
  });

  it("keeps serving keys it has verified to an address over its limit, and the master key", async () => {
    const { call, createKey, advance } = refusalApp({ burst: 2 });
    const read = await createKey(["read"]);
    const unseen = await createKey(["read"]);
    expect((await call(statePath(), read, "10.0.2.1")).status).toBe(404);
    advance(60_000); // past the cache's lifetime: the known key is looked up again, and still works
    for (let i = 0; i < 5; i++) await call(statePath(), unknownToken(), "10.0.2.1");
    expect((await call(statePath(), unknownToken(), "10.0.2.1")).status).toBe(429);
    const before = lookups;
    expect((await call(statePath(), read, "10.0.2.1")).status).toBe(404);
    expect(lookups - before).toBe(1);
    expect((await call(statePath(), MASTER, "10.0.2.1")).status).toBe(404);
    // A key this instance never saw would cost a lookup: it waits until the address is under its limit.
    expect((await call(statePath(), unseen, "10.0.2.1")).status).toBe(429);
    expect((await call(statePath(), unseen, "10.0.2.2")).status).toBe(404);
  });

  it("looks up no unknown key id for an address over its limit", async () => {
    const { call } = refusalApp({ burst: 5 });
    const before = lookups;
    const statuses = [];
    for (let i = 0; i < 50; i++) statuses.push((await call(statePath(), unknownToken(), "10.0.3.1")).status);
    expect(statuses.filter((status) => status === 401)).toHaveLength(5);
    expect(statuses.filter((status) => status === 429)).toHaveLength(45);
    expect(lookups - before).toBe(5);
  });

  it("counts an IPv6 client by its /64, the block one subscriber holds", async () => {
    const { call } = refusalApp({ burst: 2 });
    expect((await call(statePath(), "nope", "2001:db8:7:1::1")).status).toBe(401);
    expect((await call(statePath(), "nope", "2001:db8:7:1:ffff:0:0:2")).status).toBe(401);
    expect((await call(statePath(), "nope", "2001:DB8:7:1::abcd")).status).toBe(429);
    expect((await call(statePath(), "nope", "2001:db8:7:2::1")).status).toBe(401);
    expect(["::ffff:192.0.2.1", "192.0.2.1", "::1", "fe80::1%eth0", "unknown"].map(limitKey)).toEqual([
      "192.0.2.1",
      "192.0.2.1",
      "0:0:0:0::/64",
      "fe80:0:0:0::/64",
      "unknown",
    ]);
  });

  it("takes the address from the trusted proxy's header only when told to", async () => {
    const proxied = refusalApp({ burst: 1, header: "X-Forwarded-For" });
    const via = (client: string) => ({ "x-forwarded-for": `203.0.113.9, ${client}` });
    expect((await proxied.call(statePath(), "nope", "10.9.9.9", via("198.51.100.1"))).status).toBe(401);
    expect((await proxied.call(statePath(), "nope", "10.9.9.9", via("198.51.100.1"))).status).toBe(429);
    expect((await proxied.call(statePath(), "nope", "10.9.9.9", via("198.51.100.2"))).status).toBe(401);
    // Without the setting the header is the client's word: it cannot buy a fresh limit.
    const direct = refusalApp({ burst: 1 });
    expect((await direct.call(statePath(), "nope", "10.9.9.9", via("198.51.100.1"))).status).toBe(401);
    expect((await direct.call(statePath(), "nope", "10.9.9.9", via("198.51.100.2"))).status).toBe(429);
  });
});

describe("the key cache", () => {
  it("looks an unknown id up once, from whatever address it comes", async () => {
    const { call } = refusalApp({ burst: 100 });
    const token = unknownToken();
    const before = lookups;
    for (let i = 0; i < 20; i++) expect((await call(statePath(), token, `10.0.4.${i}`)).status).toBe(401);
    expect(lookups - before).toBe(1);
  });

  it("never evicts a valid key for unknown ids, and keeps the unknown ones bounded", async () => {
    const { keys, createKey } = refusalApp({ maxUnknown: 100 });
    const valid = await createKey(["read"]);
    expect(await keys.authenticate(valid)).toMatchObject({ scopes: ["read"] });
    const first = unknownToken();
    expect(await keys.authenticate(first)).toBeUndefined();
    const before = lookups;
    const flood = Array.from({ length: 300 }, unknownToken);
    expect(await Promise.all(flood.map((token) => keys.authenticate(token)))).toEqual(flood.map(() => undefined));
    expect(lookups - before).toBe(300);
    expect(await keys.authenticate(valid)).toMatchObject({ scopes: ["read"] });
    expect(lookups - before).toBe(300); // the valid key is still cached
    expect(await keys.authenticate(first)).toBeUndefined();
    expect(lookups - before).toBe(301); // the oldest unknown id was let go
  });

  it("looks ids never verified up a few at a time, whatever the pool allows", async () => {
    const { keys } = refusalApp({ maxFirstLookups: 1 });
    const blocked = async () => {
      const [row] = await t.database.sql<{ count: number }[]>`
        select count(*)::int as count from pg_stat_activity
        where datname = current_database() and wait_event_type = 'Lock' and query like '%api_keys%'
      `;
      return row?.count ?? 0;
    };
    let pending: Promise<unknown>[] = [];
    await t.database.sql.begin(async (tx) => {
      await tx`lock table api_keys in access exclusive mode`;
      pending = Array.from({ length: 10 }, () => keys.authenticate(unknownToken()));
      const deadline = Date.now() + 20_000;
      while ((await blocked()) < 1 && Date.now() < deadline) await Bun.sleep(20);
      // The key store's pool has 2 connections; only 1 lookup reached the database.
      expect(await blocked()).toBe(1);
      expect(keys.waitingLookups).toBe(9);
    });
    expect(await Promise.all(pending)).toEqual(Array(10).fill(undefined));
    expect(keys.waitingLookups).toBe(0);
  });
});

describe("refusal logs", () => {
  it("writes one line per reason per interval, counting the lines it left out", async () => {
    const lines: Record<string, unknown>[] = [];
    let clock = 0;
    const app = createApp({
      sql: t.database.sql,
      db: t.database.db,
      writer: t.writer,
      keys: new KeyStore(t.database.db, t.database.sql, MASTER),
      log: pino({ level: "info" }, { write: (line: string) => lines.push(JSON.parse(line)) }),
      refusalLog: new LogSampler(10_000, () => clock),
      now: () => DEFAULT_NOW,
    });
    const refuse = () =>
      app.request(statePath(), { headers: { authorization: "Bearer nope" } }, { clientAddress: "10.0.5.1" });
    for (let i = 0; i < 50; i++) expect((await refuse()).status).toBe(401);
    expect((await app.request("/nowhere")).status).toBe(404);
    expect(lines.map((line) => [line.msg, line.status, line.code])).toEqual([
      ["request refused", 401, "unauthorized"],
      ["request refused", 404, "not_found"],
    ]);
    expect(lines[0]).toMatchObject({ clientAddress: "10.0.5.1", route: "/v1/vehicles/:vehicleId/state" });
    expect(lines[0]?.suppressed).toBeUndefined();
    clock += 10_000;
    await refuse();
    expect(lines).toHaveLength(3);
    expect(lines[2]).toMatchObject({ status: 401, code: "unauthorized", suppressed: 49 });
  });

  it("writes every line when the interval is 0", () => {
    const sampler = new LogSampler(0, () => 0);
    expect([sampler.admit("401 unauthorized"), sampler.admit("401 unauthorized")]).toEqual([
      { suppressed: 0 },
      { suppressed: 0 },
    ]);
  });
});
