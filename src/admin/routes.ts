// GET /v1/admin/stats: partitions, ingestion lag, device liveness and the rollups' backlog
// in one answer.
import { Hono } from "hono";
import type { Sql } from "../db/client.ts";
import type { Partitions } from "../partitions/partitions.ts";
import { rollupBacklog } from "../rollups/backlog.ts";
import { deviceLiveness, ingestionLag, partitionStats } from "./stats.ts";

export function adminRoutes(sql: Sql, partitions: Partitions, now: () => Date) {
  return new Hono().get("/stats", async (c) => {
    const at = now();
    const [partitionList, lag, devices, rollups] = await Promise.all([
      partitionStats(sql, partitions),
      ingestionLag(sql, at),
      deviceLiveness(sql, at),
      rollupBacklog(sql),
    ]);
    return c.json({ at: at.toISOString(), partitions: partitionList, ingestionLag: lag, devices, rollups });
  });
}
