// GET /v1/admin/stats: partitions, ingestion lag, device liveness and the rollups' backlog
// in one answer, read in one transaction whose statements may run `statementTimeoutMs`
// at most, so an operator's page can never hold the read pool for long.
import { Hono } from "hono";
import type { Sql } from "../db/client.ts";
import type { Partitions } from "../partitions/partitions.ts";
import { rollupBacklog } from "../rollups/backlog.ts";
import { deviceLiveness, ingestionLag, partitionStats } from "./stats.ts";

export interface AdminDeps {
  sql: Sql;
  partitions: Partitions;
  now: () => Date;
  /** statement_timeout for the page's queries (ADMIN_STATEMENT_TIMEOUT_MS); none when absent. */
  statementTimeoutMs?: number;
}

export function adminRoutes({ sql, partitions, now, statementTimeoutMs }: AdminDeps) {
  return new Hono().get("/stats", async (c) => {
    const at = now();
    const stats = await sql.begin(async (tx) => {
      if (statementTimeoutMs) await tx`select set_config('statement_timeout', ${`${statementTimeoutMs}ms`}, true)`;
      return {
        partitions: await partitionStats(tx, partitions),
        ingestionLag: await ingestionLag(tx, at),
        devices: await deviceLiveness(tx, at),
        rollups: await rollupBacklog(tx),
      };
    });
    return c.json({ at: at.toISOString(), ...stats });
  });
}
