// The connection pool and the Drizzle handle over it. numeric columns are parsed into
// JavaScript numbers here, once, so no query has to remember to (every numeric in this
// schema has at most 10 digits, well inside a double's exact range).
import { drizzle } from "drizzle-orm/postgres-js";
import postgres from "postgres";
import * as schema from "./schema.ts";

export type Sql = postgres.Sql;
/**
 * What runs a query: the pool, a transaction (`sql.begin`) or a reserved connection
 * (`sql.reserve`). Code that only runs queries takes this, so it works inside a
 * transaction as it does on the pool; what opens transactions or reads pool options takes `Sql`.
 */
export type Queryable = Sql | postgres.TransactionSql | postgres.ReservedSql;
export type Db = ReturnType<typeof createDb>;

export interface DbOptions {
  url: string;
  poolSize: number;
  connectTimeoutSeconds: number;
  /** PostgreSQL's statement_timeout for every statement of the pool; none when absent. */
  statementTimeoutMs?: number;
}

const NUMERIC_OID = 1700;

/** How this service's connections name themselves in pg_stat_activity. */
export const APPLICATION_NAME = "fleet-telemetry";

export function createSql(options: DbOptions): Sql {
  return postgres(options.url, {
    max: options.poolSize,
    connect_timeout: options.connectTimeoutSeconds,
    idle_timeout: 60,
    max_lifetime: 60 * 30,
    // Reconnect quickly once the database is back. The driver's default backoff grows to
    // 20 s and is shared by the pool, leaving requests waiting long after recovery.
    backoff: () => 0.25,
    onnotice: () => {},
    // work_mem: analytics group rollup rows per vehicle; at PostgreSQL's default 4 MB a
    // long fleet window's aggregate spills to disk. jit off: the queries here last
    // milliseconds, and a server built with JIT (Debian's is) would spend about 100 ms
    // compiling the fleet view's plan, whose estimated cost is above jit_above_cost.
    connection: {
      application_name: APPLICATION_NAME,
      work_mem: "32MB",
      jit: "off",
      ...(options.statementTimeoutMs ? { statement_timeout: options.statementTimeoutMs } : {}),
    },
    types: {
      numeric: {
        to: NUMERIC_OID,
        from: [NUMERIC_OID],
        serialize: (value: number | string) => String(value),
        parse: (value: string) => Number(value),
      },
    },
  });
}

/**
 * An array as a PostgreSQL array literal, `{a,b,c}`, to be cast in the query
 * (`${arrayLiteral(ids)}::uuid[]`). Arrays travel this way because Drizzle, sharing this
 * client, hands numeric and timestamp arrays to the driver unserialised. No element is
 * quoted or escaped: callers pass only validated numbers, UUIDs, ISO-8601 instants and
 * names of [a-z0-9_], none of which holds a comma, brace, quote, backslash or space.
 */
export const arrayLiteral = (values: readonly (string | number)[]) => `{${values.join(",")}}`;

export function createDb(sql: Sql) {
  return drizzle(sql, { schema });
}
