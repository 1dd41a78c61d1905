// The database driver when a connection dies at the worst moment, made repeatable by a proxy
// that cuts it at an exact point of the protocol (test/support/pg-proxy.ts). Each case is a
// way a killed or restarting PostgreSQL once hung a request, poisoned a pooled connection
// for good, or crashed the process with an unhandled error; patches/postgres@3.4.9.patch
// mends them in the driver. The crash test (test/crash.test.ts) meets them by chance.
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import postgres from "postgres";
import { createTestDatabase, type TestDatabase } from "./support/database.ts";
import { type PgProxy, startPgProxy } from "./support/pg-proxy.ts";

// Errors no caller could catch: each one would take the service down.
const escaped: unknown[] = [];
const record = (error: unknown) => {
  escaped.push(error);
};
let database: TestDatabase;
let proxy: PgProxy;
const clients: postgres.Sql[] = [];

beforeAll(async () => {
  process.on("unhandledRejection", record);
  process.on("uncaughtException", record);
  database = await createTestDatabase();
  proxy = await startPgProxy(Number(new URL(database.url).port));
  await database.sql`create table driver_probe (id int primary key)`;
});

afterAll(async () => {
  for (const sql of clients) await sql.end({ timeout: 1 });
  await proxy.close();
  await database.drop();
  process.off("unhandledRejection", record);
  process.off("uncaughtException", record);
});

/** A one-connection pool through the proxy: every case reuses the connection that was cut. */
function client() {
  const url = new URL(database.url);
  url.port = String(proxy.port);
  const sql = postgres(url.toString(), { max: 1, connect_timeout: 2, backoff: () => 0.05, onnotice: () => {} });
  clients.push(sql);
  return sql;
}

/** Lets the event loop turn, so an unhandled rejection or error event has been reported. */
const settle = () => new Promise((resolve) => setImmediate(() => setImmediate(resolve)));

/** The promise's outcome, or "still waiting" after ms: a hang is a failure, not a test timeout. */
function within<T>(ms: number, promise: Promise<T>): Promise<T | "still waiting"> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<"still waiting">((resolve) => {
    timer = setTimeout(() => resolve("still waiting"), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

const outcome = (promise: Promise<unknown>) =>
  promise.then(
    () => "answered",
    (error) => (error as { code?: string }).code ?? String(error),
  );

describe("a database connection that dies", () => {
  it("fails a COPY cut as it starts, without an unhandled error, and connects again", async () => {
    const sql = client();
    await sql`select 1`;
    proxy.cutNext({ afterServerMessage: "G" }); // CopyInResponse, then the connection is gone
    const upload = sql.begin(async (tx) => {
      const copy = await tx`copy driver_probe from stdin`.writable();
      await pipeline(Readable.from(["1\n", "2\n"]), copy);
    });
    expect(await outcome(upload)).toBe("CONNECTION_CLOSED");
    // The same pooled connection reconnects: its unsent write did not wedge it.
    expect(await within(5_000, outcome(sql`select count(*)::int as n from driver_probe`))).toBe("answered");
    await settle();
    expect(escaped).toEqual([]);
  });

  it("refuses a query at once while the server is starting, rather than when it is up", async () => {
    const sql = client();
    await sql`select 1`;
    proxy.cutNext({ onClientText: "pg_sleep" }); // a query in flight when the server died
    expect(await outcome(sql`select pg_sleep(0)`)).toBe("CONNECTION_CLOSED");
    proxy.setStartingUp(true);
    expect(await within(3_000, outcome(sql`select 1`))).toBe("57P03");
    proxy.setStartingUp(false);
    expect([...(await sql`select 1 as one`)]).toEqual([{ one: 1 }]);
    await settle();
    expect(escaped).toEqual([]);
  });

  it("keeps a new connection's cut array-types query from escaping as an unhandled rejection", async () => {
    const sql = client();
    proxy.cutNext({ onClientText: "typarray" }); // the driver's own first query on a connection
    const reserved = await within(5_000, sql.reserve());
    if (reserved === "still waiting") throw new Error("sql.reserve() did not settle");
    expect([...(await reserved`select 1 as one`)]).toEqual([{ one: 1 }]);
    reserved.release();
    await settle();
    expect(escaped).toEqual([]);
  });

  it("refuses a transaction's statements once its connection closed, and runs none on the next session", async () => {
    const sql = client();
    await sql`select 1`;
    let insert: Promise<string> | undefined;
    let other: Promise<string> | undefined;
    const transaction = sql.begin(async (tx) => {
      proxy.cutNext({ onClientText: "cut here" });
      await tx`select 'cut here'`.catch(() => {});
      // The pool reconnects the same connection for this query while the transaction goes on.
      other = outcome(sql`select 2`);
      insert = outcome(tx`insert into driver_probe values (42)`);
      await insert;
    });
    expect(await outcome(transaction)).toBe("CONNECTION_CLOSED");
    expect(await insert).toBe("CONNECTION_CLOSED");
    expect(await within(5_000, other as Promise<string>)).toBe("answered");
    const [row] = await sql<{ n: number }[]>`select count(*)::int as n from driver_probe where id = 42`;
    expect(row?.n).toBe(0);
    await settle();
    expect(escaped).toEqual([]);
  });
});
