// Queries run side by side on several connections read one instant; callers sharing a pool never deadlock.
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { createSql, type Queryable, type Sql } from "../src/db/client.ts";
import { inOneSnapshot } from "../src/db/snapshot.ts";
import { createTestDatabase, type TestDatabase } from "./support/database.ts";

let database: TestDatabase;
let small: Sql;
beforeAll(async () => {
  database = await createTestDatabase();
  small = createSql({ url: database.url, poolSize: 2, connectTimeoutSeconds: 10 });
  await database.sql`create table counter (n int not null)`;
  await database.sql`insert into counter values (0)`;
});
afterAll(async () => {
  await small.end({ timeout: 5 });
  await database.drop();
});

const readCounter = (sql: Queryable) =>
  sql<{ n: number; pid: number }[]>`select n, pg_backend_pid() as pid from counter`;

describe("inOneSnapshot", () => {
  it("reads on separate connections, all at the instant of the first, whatever commits meanwhile", async () => {
    const [first, second, third] = await inOneSnapshot<
      [number, { n: number; pid: number }[], { n: number; pid: number }[]]
    >(database.sql, [
      async (tx) => {
        const [row] = await readCounter(tx);
        // A write commits while the other two are still to read.
        await database.sql`update counter set n = n + 1`;
        return row?.n ?? -1;
      },
      async (tx) => {
        await Bun.sleep(50);
        return readCounter(tx);
      },
      async (tx) => {
        await Bun.sleep(50);
        return readCounter(tx);
      },
    ]);
    expect(second[0]?.n).toBe(first);
    expect(third[0]?.n).toBe(first);
    expect(second[0]?.pid).not.toBe(third[0]?.pid);
    expect((await readCounter(database.sql))[0]?.n).toBe(first + 1);
  });

  it("runs the queries one after the other in one transaction when the pool is too small for them", async () => {
    const results = await inOneSnapshot<{ n: number; pid: number }[][]>(small, [readCounter, readCounter, readCounter]);
    expect(new Set(results.map((rows) => rows[0]?.pid)).size).toBe(1);
  });

  it("lets many callers share a pool without waiting on each other for ever", async () => {
    const callers = Array.from({ length: 12 }, () =>
      inOneSnapshot<{ n: number; pid: number }[][]>(small, [readCounter, readCounter]),
    );
    const answers = await Promise.race([
      Promise.all(callers),
      Bun.sleep(10_000).then(() => {
        throw new Error("callers still waiting after 10 s");
      }),
    ]);
    expect(answers).toHaveLength(12);
  });
});
