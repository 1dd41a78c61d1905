// The figures /metrics takes from the database (the rollups' backlog, this service's
// connections, the partitions), read at most once per cache period whoever scrapes: a
// scrape within the period gets the last figures, and scrapes that arrive while a read is
// under way share it. Twenty scrapers then cost the database what one does, and the
// backlog is counted only up to a cap, so a large backlog does not make scrapes slow.
import { APPLICATION_NAME, type Sql } from "../db/client.ts";
import { PARTITIONED_TABLES } from "../partitions/partitions.ts";
import { type RollupBacklog, rollupBacklog } from "../rollups/backlog.ts";
import { sharedRead } from "./shared-read.ts";

export interface DatabaseFigures {
  /** Undefined when the read failed: the gauges then keep their last values. */
  backlog?: RollupBacklog;
  connections: { state: string; count: number }[];
  partitions: { table: string; count: number }[];
}

export interface DatabaseGaugeOptions {
  sql: Sql;
  /** How long figures are served before the next scrape reads them again; 0: every scrape. */
  cacheMs: number;
  /** Pending readings counted per table at most. */
  backlogCap: number;
  /** Told about every read of the database, for the reads counter. */
  onRead?: () => void;
}

async function readFigures(sql: Sql, backlogCap: number): Promise<DatabaseFigures> {
  const [backlog, connections, partitions] = await Promise.all([
    rollupBacklog(sql, backlogCap).catch(() => undefined),
    sql<{ state: string; count: number }[]>`
      select coalesce(state, 'unknown') as state, count(*)::int as count
      from pg_stat_activity
      where datname = current_database() and application_name = ${APPLICATION_NAME}
      group by 1
    `.catch(() => []),
    sql<{ table: string; count: number }[]>`
      select parent.relname as table, count(*)::int as count
      from pg_inherits join pg_class parent on parent.oid = pg_inherits.inhparent
      where parent.relname in ${sql(PARTITIONED_TABLES)}
      group by 1
    `.catch(() => []),
  ]);
  return { backlog, connections: [...connections], partitions: [...partitions] };
}

/** Answers the figures, from the last read while fresh, else from one shared read. */
export function databaseFigures(options: DatabaseGaugeOptions): () => Promise<DatabaseFigures> {
  return sharedRead(options.cacheMs, () => {
    options.onRead?.();
    return readFigures(options.sql, options.backlogCap);
  });
}
