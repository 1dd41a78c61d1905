// Several read-only queries at once, each on its own connection of the pool, all reading
// one snapshot: the first transaction exports it (pg_export_snapshot) and the others
// adopt it (SET TRANSACTION SNAPSHOT), as pg_dump --jobs does; standbys allow it too. The
// fleet view splits its work this way over the machine's cores without reading its AC
// and its DC at two different instants.
//
// A caller holds one connection while it waits for the others, so callers that could
// together hold the whole pool and wait for more would wait forever. At most
// floor(pool / queries) callers run at once, per pool; the rest queue here, and a pool
// too small for the queries runs them one after the other in a single transaction.
import type { Queryable, Sql } from "./client.ts";

export type SnapshotQuery<T> = (sql: Queryable) => PromiseLike<T>;

const ISOLATION = "isolation level repeatable read read only";
// What pg_export_snapshot answers, e.g. 00000003-0000001B-1: checked before it is quoted.
const SNAPSHOT_ID = /^[0-9A-F]+(-[0-9A-F]+)+$/;

class Gate {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly capacity: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.capacity) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active++;
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
}

const gates = new WeakMap<Sql, Map<number, Gate>>();

function gateFor(sql: Sql, width: number, poolSize: number): Gate {
  const byWidth = gates.get(sql) ?? new Map<number, Gate>();
  gates.set(sql, byWidth);
  const gate = byWidth.get(width) ?? new Gate(Math.max(1, Math.floor(poolSize / width)));
  byWidth.set(width, gate);
  return gate;
}

/** Runs the queries concurrently, all in one snapshot; answers their results in order. */
export async function inOneSnapshot<T extends unknown[]>(
  sql: Sql,
  queries: { [K in keyof T]: SnapshotQuery<T[K]> },
): Promise<T> {
  const list = queries as SnapshotQuery<unknown>[];
  const poolSize = Number(sql.options.max) || 1;
  if (list.length < 2 || poolSize < list.length) {
    const results = await sql.begin(ISOLATION, async (tx) => {
      const answers: unknown[] = [];
      for (const query of list) answers.push(await query(tx));
      return answers;
    });
    return results as unknown as T;
  }
  const [first, ...rest] = list as [SnapshotQuery<unknown>, ...SnapshotQuery<unknown>[]];
  const results = await gateFor(sql, list.length, poolSize).run(() =>
    sql.begin(ISOLATION, async (lead) => {
      const [exported] = await lead<{ snapshot: string }[]>`select pg_export_snapshot() as snapshot`;
      const snapshot = exported?.snapshot ?? "";
      if (!SNAPSHOT_ID.test(snapshot)) throw new Error(`unexpected snapshot id ${JSON.stringify(snapshot)}`);
      const followers = rest.map((query) =>
        sql.begin(ISOLATION, async (tx) => {
          await tx.unsafe(`set transaction snapshot '${snapshot}'`);
          return query(tx);
        }),
      );
      // The exporting transaction stays open until every follower has its answer.
      return Promise.all([first(lead), ...followers]);
    }),
  );
  return results as unknown as T;
}
